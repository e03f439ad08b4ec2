"""The radio's link model: air time, ceilings, pacing of real bumble traffic in virtual
time, loss as delay, fades, walk-aways and the cost of an idle link."""
import asyncio
import random

import pytest

from ble_util import connect, run_sim, until
from firmware.protocol import uuids
from firmware.runtime import sched as S
from sim import linkmodel
from sim.linkmodel import LinkSettings, airtime_us, ceiling_bytes_per_s, phy_ceiling_bytes_per_s


def test_air_time_of_a_full_pdu():
    # 2M: (2 preamble + 4 AA + 2 header + 251 + 3 CRC) bytes at 4 us/byte
    assert airtime_us("2M", 251) == 1048
    assert airtime_us("1M", 251) == 2088
    assert airtime_us("2M", 251, mic=True) == 1064
    assert airtime_us("2M", 0, mic=True) == 44  # empty PDUs carry no MIC


def test_phy_ceilings_are_the_quoted_figures():
    assert phy_ceiling_bytes_per_s("2M", 251, 247) == pytest.approx(175_287, rel=1e-3)
    assert phy_ceiling_bytes_per_s("1M", 251, 247) == pytest.approx(98_865, rel=1e-3)


def test_ceiling_with_connection_events():
    # 2M, 251-byte PDUs: an exchange takes 44 + 150 + 1064 + 150 = 1408 us, so a 15 ms
    # event carries 10 notifications of 244 bytes.
    s = LinkSettings(interval_ms=15, phy="2M", data_length=251, att_mtu=247)
    assert ceiling_bytes_per_s(s) == pytest.approx(10 * 244 / 0.015)
    assert ceiling_bytes_per_s(s.replace(packets_per_event=4)) == pytest.approx(4 * 244 / 0.015)
    # 27-byte PDUs: a 251-byte L2CAP PDU needs 10 of them (9 x 27 + 8)
    s27 = s.replace(data_length=27, phy="1M", encrypted=False)
    per_notification_us = sum(linkmodel.exchange_us("1M", 0, f) for f in [27] * 9 + [8])
    assert ceiling_bytes_per_s(s27) < 244 * 1e6 / per_notification_us
    assert ceiling_bytes_per_s(s27) > 0.9 * 244 * 1e6 / per_notification_us


def test_settings_are_checked():
    for bad in (dict(phy="3M"), dict(data_length=300), dict(interval_ms=5),
                dict(att_mtu=10), dict(packet_loss=1.0), dict(fade_mean_ms=0)):
        with pytest.raises(ValueError):
            LinkSettings(**bad)


async def _paired(env, **kw):
    g = env.glasses.gatt
    got = []
    c = await connect(env, pair=True, **kw)
    await c.start_notify(uuids.TX, lambda ch, d: got.append((env.loop.time(), bytes(d))))
    assert await until(env, lambda: g.authorised and g.mtu == 247)
    return c, got


def _stream(env, n, size=244):
    g = env.glasses.gatt

    async def producer():
        for i in range(n):
            frame = i.to_bytes(4, "little") + bytes(size - 4)
            while not g.send(frame):
                await g.writable.wait(1000)

    env.glasses.spawn(producer, prio=S.PRIO_LINK)


def test_notification_goodput_follows_the_ceiling(tmp_path):
    n = 1500

    async def body(env):
        c, got = await _paired(env)
        model, = env.radio.glasses_connections()
        _stream(env, n)
        assert await until(env, lambda: len(got) == n, timeout=60)
        await c.disconnect()
        return got, model.interval_ms

    got, interval_ms = run_sim(tmp_path, body)
    assert interval_ms == 15.0  # the host moved to the glasses' preferred interval
    assert [int.from_bytes(d[:4], "little") for _, d in got] == list(range(n))
    t0 = got[100][0]
    window = 100 * interval_ms / 1000  # whole connection intervals, after the start-up
    goodput = 244 * sum(1 for t, _ in got if t0 <= t < t0 + window) / window
    ceiling = ceiling_bytes_per_s(LinkSettings(interval_ms=15, phy="2M", data_length=251))
    assert 0.97 * ceiling <= goodput <= ceiling


def test_a_burst_larger_than_the_controllers_buffers_arrives_in_order(tmp_path):
    """20 notifications at once (a voice stream's pre-roll): the controller takes 12, the
    rest wait for buffers that free as the first go on air; a connection update (the
    phone's interval policy) lands while they are on air. None overtakes another: a PDU
    queued then once went in an event that started before the last one's air time
    ended."""
    async def body(env):
        c, got = await _paired(env)
        model, = env.radio.glasses_connections()
        events = model.events
        for i in range(20):
            assert env.glasses.gatt.send(i.to_bytes(4, "little") + bytes(166))
        while model.events == events:  # the first event is on air now
            await asyncio.sleep(0.0002)
        model.set_parameters(12, 400)  # the interval again, from now
        assert await until(env, lambda: len(got) == 20, timeout=5)
        await c.disconnect()
        return got

    got = run_sim(tmp_path, body)
    assert [int.from_bytes(d[:4], "little") for _, d in got] == list(range(20))


def test_latency_is_quantised_to_connection_events(tmp_path):
    async def body(env):
        c, got = await _paired(env)
        model, = env.radio.glasses_connections()
        rng = random.Random(5)
        sent = []
        for i in range(30):
            await asyncio.sleep(rng.uniform(0.001, 0.1))
            sent.append(env.loop.time())
            assert env.glasses.gatt.send(bytes([i]) * 100)
            await until(env, lambda n=i + 1: len(got) == n)
        await c.disconnect()
        return sent, [t for t, _ in got], model.anchor, model.interval_s

    sent, received, anchor, interval = run_sim(tmp_path, body)
    # one central empty PDU, T_IFS, then the 107-byte PDU (100 + ATT 3 + L2CAP 4), MIC
    offset = (airtime_us("2M", 0) + 150 + airtime_us("2M", 107, mic=True)) / 1e6
    for s, r in zip(sent, received):
        k = round((r - anchor - offset) / interval)
        assert abs(r - (anchor + k * interval + offset)) < 3e-6  # in a connection event
        assert 0 < r - s <= interval + offset + 3e-6  # (the loop's clock ticks in us)


def test_packet_loss_delays_but_loses_nothing_and_repeats_from_the_seed(tmp_path):
    n = 300

    def one(seed, tag):
        async def body(env):
            c, got = await _paired(env)
            model, = env.radio.glasses_connections()
            _stream(env, n, size=100)
            assert await until(env, lambda: len(got) == n, timeout=60)
            await c.disconnect()
            return [t for t, _ in got], [d for _, d in got], model.lost_exchanges
        return run_sim(tmp_path / tag, body, seed=seed,
                       settings=LinkSettings(packet_loss=0.2))

    times, data, lost = one(3, "a")
    assert [int.from_bytes(d[:4], "little") for d in data] == list(range(n))
    assert lost > 0
    assert one(3, "b")[0] == times  # same seed, same run


def test_walking_away_briefly_delays_and_longer_disconnects(tmp_path):
    async def body(env):
        g = env.glasses.gatt
        lost = []
        c, got = await _paired(env, disconnected_callback=lambda cl: lost.append(1))
        model, = env.radio.glasses_connections()
        timeout = model.timeout_s
        env.radio.walk_away(timeout / 2)  # a short walk: the link survives
        t0 = env.loop.time()
        assert g.send(b"\x05" * 20)
        await until(env, lambda: got)
        delayed = got[0][0] - t0
        still = c.is_connected and g.connected and not lost
        env.radio.walk_away(timeout + 5)  # a long one: supervision timeout
        t1 = env.loop.time()
        await until(env, lambda: not g.connected and lost, timeout=timeout + 1)
        gone = (env.loop.time() - t1, c._backend.disconnect_reason)
        # out of range: no advertising is heard until the wearer is back
        from bleak import BleakScanner
        seen = await BleakScanner.discover(timeout=2, backend=env.host.scanner)
        await asyncio.sleep(5)
        back = await BleakScanner.discover(timeout=1, backend=env.host.scanner)
        return timeout, delayed, still, gone, seen, back

    timeout, delayed, still, (took, reason), seen, back = run_sim(tmp_path, body)
    assert still and timeout / 2 <= delayed <= timeout / 2 + 0.05
    assert took == pytest.approx(timeout, abs=0.05) and reason == 0x08
    assert seen == [] and len(back) == 1


def test_random_fades_follow_the_seed(tmp_path):
    async def body(env):
        g = env.glasses.gatt
        lost = []
        await _paired(env, disconnected_callback=lambda cl: lost.append(env.loop.time()))
        await until(env, lambda: lost, timeout=3600)
        return env.radio.link.fades, lost, g.disconnects

    s = LinkSettings(fades_per_hour=60, fade_mean_ms=3000)
    fades, lost, disconnects = run_sim(tmp_path, body, seed=4, settings=s)
    assert fades >= 1 and lost and disconnects == 1
    assert run_sim(tmp_path / "again", body, seed=4, settings=s) == (fades, lost, disconnects)


def test_an_idle_connected_hour_costs_no_link_events(tmp_path):
    async def body(env):
        c, got = await _paired(env)
        model, = env.radio.glasses_connections()
        await asyncio.sleep(1)
        events, waits = model.events, env.glasses.driver.waits
        await asyncio.sleep(3600)
        alive = c.is_connected and env.glasses.gatt.connected
        return model.events - events, env.glasses.driver.waits - waits, alive

    events, waits, alive = run_sim(tmp_path, body)
    assert alive and events == 0 and waits <= 2
