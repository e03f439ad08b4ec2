"""The glasses' GATT peripheral (firmware/ble/gatt.py) against a bleak host, over the real
bumble stack on both sides of the simulated radio, in virtual time."""
import asyncio
import json

from bleak import BleakScanner
from bleak.exc import BleakGATTProtocolError

from ble_util import BATTERY, NAME, connect, find, run_sim, until
from firmware.protocol import uuids
from firmware.ble.bonds import BondStore
from firmware.runtime import sched as S
from firmware.runtime.store import Store

INSUFFICIENT_ENCRYPTION = 0x0F
READ_NOT_PERMITTED = 0x02


def test_scan_finds_the_glasses_by_name_and_service(tmp_path):
    async def body(env):
        by_name = await find(env)
        found = await BleakScanner.discover(timeout=1.0, return_adv=True,
                                            backend=env.host.scanner,
                                            service_uuids=[uuids.SERVICE])
        return by_name, found

    dev, found = run_sim(tmp_path, body)
    assert dev.name == NAME
    (d, ad), = found.values()
    assert d.address == dev.address
    assert ad.local_name == NAME and uuids.SERVICE in ad.service_uuids


def test_device_information_and_battery_without_bonding(tmp_path):
    async def body(env):
        env.glasses.gatt.set_battery(87)
        c = await connect(env)
        values = {}
        for n in (uuids.MANUFACTURER_NAME, uuids.MODEL_NUMBER, uuids.SERIAL_NUMBER,
                  uuids.FIRMWARE_REVISION, uuids.BATTERY_LEVEL):
            values[n] = bytes(await c.read_gatt_char(uuids.uuid16_full(n)))
        svcs = {s.uuid for s in c.services}
        sc = c.services.get_characteristic(uuids.uuid16_full(uuids.SERVICE_CHANGED))
        await c.disconnect()
        return values, svcs, sc, c._backend.is_encrypted

    values, svcs, service_changed, encrypted = run_sim(tmp_path, body)
    assert not encrypted
    assert values[uuids.MANUFACTURER_NAME] == b"Open Glasses"
    assert values[uuids.MODEL_NUMBER] == b"sim"
    assert values[uuids.SERIAL_NUMBER] == b"A1B2C3D4E5F6"  # machine.unique_id, in hex
    assert values[uuids.FIRMWARE_REVISION] == b"0.1.0"
    assert values[uuids.BATTERY_LEVEL] == bytes([87])
    assert uuids.uuid16_full(uuids.GENERIC_ATTRIBUTE) in svcs
    assert service_changed is not None and "indicate" in service_changed.properties


def test_unbonded_host_is_refused_the_link_service(tmp_path):
    async def body(env):
        g = env.glasses.gatt
        c = await connect(env)
        errors = []
        for op in (lambda: c.write_gatt_char(uuids.RX, b"hi", response=True),
                   lambda: c.start_notify(uuids.TX, lambda ch, d: got.append(d)),
                   lambda: c.read_gatt_char(uuids.TX)):
            try:
                await op()
                errors.append(None)
            except BleakGATTProtocolError as e:
                errors.append(e.code)
        got = []
        await c.write_gatt_char(uuids.RX, b"quiet", response=False)  # dropped by the stack
        sent = g.send(b"\x01\x00\x00secret")
        await asyncio.sleep(0.5)
        await c.disconnect()
        return errors, got, sent, list(env.glasses.frames), g.stats()

    errors, got, sent, frames, stats = run_sim(tmp_path, body)
    assert errors == [INSUFFICIENT_ENCRYPTION, INSUFFICIENT_ENCRYPTION, READ_NOT_PERMITTED]
    assert sent is False and stats["tx_refused"] == 1 and stats["tx_frames"] == 0
    assert got == [] and frames == []


def test_encrypted_but_unbonded_host_is_refused_and_dropped(tmp_path):
    """A pairing that leaves the glasses no bond (the host asked for none) is not consent
    to anything: the glasses drop it at once (docs/security.md)."""
    async def body(env):
        g = env.glasses.gatt
        c = await connect(env)
        try:
            await c.pair(bond=False)
        except Exception:  # the drop may beat the end of the host's pairing
            pass
        await until(env, lambda: g.disconnects == 1)
        return g.stats(), g.bonds.count(), list(env.glasses.frames), c.is_connected

    stats, bonds, frames, still = run_sim(tmp_path, body)
    assert not still and bonds == 0 and frames == []
    assert stats["refused"]["pairing"] == 1 and stats["rx_frames"] == 0


def test_nothing_is_notified_before_encryption(tmp_path):
    async def body(env):
        g = env.glasses.gatt
        c = await connect(env)
        battery = []
        await c.start_notify(BATTERY, lambda ch, d: battery.append(bytes(d)))
        g.set_battery(50)  # subscribed, but the link is not encrypted yet
        refused = g.send(b"\x01\x00\x00early")
        await asyncio.sleep(0.3)
        before = list(battery)
        await c.pair()
        await until(env, lambda: g.authorised)
        g.set_battery(49)
        g.set_battery(49)  # unchanged: nothing to notify
        await until(env, lambda: battery)
        await asyncio.sleep(0.3)
        await c.disconnect()
        return before, battery, refused

    before, after, refused = run_sim(tmp_path, body)
    assert before == [] and refused is False
    assert after == [bytes([49])]


def test_pair_bond_and_reconnect_without_pairing_again(tmp_path):
    async def body(env):
        g = env.glasses.gatt
        pairings = []
        dev = await env.host.adapter.open()
        dev.on("pairing_start", lambda conn: pairings.append(env.loop.time()))
        c = await connect(env, pair=True)
        await until(env, lambda: g.authorised)
        first = (g.encrypted, g.bonded, g.authenticated)
        interval = g.conn_interval_us  # the host moved to the glasses' preferred 15 ms
        await c.disconnect()
        await until(env, lambda: g.adv_phase == 0)
        c2 = await connect(env)  # bonded: re-encrypts on its own
        await until(env, lambda: g.authorised)
        await c2.write_gatt_char(uuids.RX, b"\x01\x00\x00again", response=True)
        second = (g.encrypted, g.bonded, c2._backend.is_encrypted)
        await c2.disconnect()
        await until(env, lambda: not g.bonds.dirty)
        return first, second, len(pairings), list(env.glasses.frames), interval

    first, second, n_pairings, frames, interval = run_sim(tmp_path, body)
    assert interval == 15000
    assert first == (True, True, False)  # Just Works: encrypted and bonded, not MITM-safe
    assert second == (True, True, True)
    assert n_pairings == 1
    assert frames == [b"\x01\x00\x00again"]
    # the glasses keep the bond on their flash, the host in its config dir
    bonds = BondStore(Store(str(tmp_path / "flash")))
    assert bonds.count() == 1
    host_keys = json.loads((tmp_path / "host" / "bonds.json").read_text())
    (peers,) = host_keys.values()
    assert len(peers) == 1 and "ltk" in next(iter(peers.values()))


def test_forget_bonds_makes_the_old_host_unbonded(tmp_path):
    async def body(env):
        g = env.glasses.gatt
        c = await connect(env, pair=True)
        await until(env, lambda: g.authorised)
        g.forget_bonds()  # a connected bonded phone is dropped
        dropped = await until(env, lambda: not c.is_connected)
        await until(env, lambda: g.adv_phase == 0)
        c2 = await connect(env)
        await until(env, lambda: g.encryption_failures > 0)
        state = (c2._backend.bond_lost, c2._backend.is_encrypted, g.bonded)
        try:
            await c2.write_gatt_char(uuids.RX, b"x", response=True)
            refused = None
        except BleakGATTProtocolError as e:
            refused = e.code
        await c2.pair()  # bonding again works
        await until(env, lambda: g.authorised)
        again = g.bonded
        await c2.disconnect()
        return dropped, state, refused, again, g.bonds.count()

    dropped, state, refused, again, bonds = run_sim(tmp_path, body)
    assert dropped
    assert state == (True, False, False)
    assert refused == INSUFFICIENT_ENCRYPTION
    assert again and bonds == 1


def test_bonds_are_bounded_and_the_oldest_is_evicted(tmp_path):
    async def body(env):
        g = env.glasses.gatt
        from host_tools.radio import open_radio
        for i in range(3):
            h = open_radio(radio=env.radio, config_dir_path=str(tmp_path / ("h%d" % i)))
            env.host = h
            g.open_pairing()  # the wearer lets each new phone in
            c = await connect(env, pair=True)
            await until(env, lambda: g.authorised)
            await c.disconnect()
            await h.close()
            await until(env, lambda: g.adv_phase == 0 and not g.bonds.dirty)
        return g.bonds.count(), g.bonds.evicted

    assert run_sim(tmp_path, body, max_bonds=2) == (2, 1)


def test_rx_writes_in_order_with_and_without_response(tmp_path):
    async def body(env):
        g = env.glasses.gatt
        c = await connect(env, pair=True)
        await until(env, lambda: g.authorised)
        sent = []
        for i in range(60):
            frame = bytes([i]) * (1 + (i * 7) % 200)
            sent.append(frame)
            await c.write_gatt_char(uuids.RX, frame, response=(i % 3 == 0))
        big = bytes(range(244))  # ATT MTU 247 - 3: the largest frame
        sent.append(big)
        await c.write_gatt_char(uuids.RX, big, response=False)
        await until(env, lambda: len(env.glasses.frames) == len(sent))
        await c.disconnect()
        return sent, list(env.glasses.frames), g.stats()

    sent, got, stats = run_sim(tmp_path, body)
    assert got == sent
    assert stats["rx_frames"] == len(sent) and stats["rx_refused"] == 0


def test_tx_in_order_and_nothing_lost_when_the_stack_is_full(tmp_path):
    n = 400

    async def body(env):
        g = env.glasses.gatt
        got = []
        c = await connect(env, pair=True)
        await c.start_notify(uuids.TX, lambda ch, d: got.append(bytes(d)))
        await until(env, lambda: g.authorised and g.mtu == 247)
        done = []

        async def producer():  # a firmware task: send, and on False wait and retry
            for i in range(n):
                frame = i.to_bytes(2, "little") * 122  # 244 bytes
                while not g.send(frame):
                    await g.writable.wait(1000)
            done.append(True)

        env.glasses.spawn(producer, prio=S.PRIO_LINK)
        await until(env, lambda: len(got) == n, timeout=30)
        await c.disconnect()
        return got, g.stats(), done

    got, stats, done = run_sim(tmp_path, body)
    assert done == [True]
    assert [int.from_bytes(f[:2], "little") for f in got] == list(range(n))
    assert stats["tx_full"] > 0  # the stack said "full" and the retries lost nothing
    assert stats["tx_frames"] == n


def test_send_refuses_a_frame_longer_than_the_mtu(tmp_path):
    async def body(env):
        g = env.glasses.gatt
        c = await connect(env, pair=True)
        await until(env, lambda: g.authorised and g.mtu == 247)
        try:
            g.send(bytes(245))
            err = None
        except ValueError as e:
            err = str(e)
        await c.disconnect()
        return err

    assert "exceeds ATT MTU 247" in run_sim(tmp_path, body)


def test_a_dropped_link_is_seen_by_both_sides_and_advertising_restarts_fast(tmp_path):
    async def body(env):
        g = env.glasses.gatt
        lost = []
        await connect(env, pair=True, disconnected_callback=lambda cl: lost.append(1))
        await until(env, lambda: g.authorised)
        await asyncio.sleep(40)  # long enough that the boot-time fast advertising ended
        assert env.radio.drop() == 1
        await until(env, lambda: not g.connected and lost)
        phase = (g.adv_phase, g.adv_interval_us, g.disconnects, lost)
        seen = []
        from bleak import BleakScanner
        async with BleakScanner(lambda d, a: seen.append(env.loop.time()),
                                backend=env.host.scanner):
            await asyncio.sleep(1.0)
        await asyncio.sleep(35)  # fast advertising lasts 30 s, then slow
        return phase, len(seen), g.adv_phase, g.adv_interval_us

    phase, n_adv, later_phase, later_interval = run_sim(tmp_path, body)
    assert phase == (0, 20000, 1, [1])
    assert 40 <= n_adv <= 60  # ~ one advertisement per 20 ms
    assert (later_phase, later_interval) == (1, 1022500)
