"""Delivery over the real bumble stack (sim/linked.py, virtual time): a message cut by a
disconnect arrives once after the reconnect, in both directions; audio gaps are reported
with their sizes; junk frames from a misbehaving phone are refused and counted, and the
session goes on."""
import asyncio

import pytest

from firmware.protocol import kinds, uuids
from firmware.protocol.channels import EV_AUDIO_GAP, EVENTS, FILE
from firmware.runtime import sched as S
from sim.linked import Linked

BIG = bytes(range(256)) * 7  # 1792 bytes: 8 frames at ATT MTU 247


@pytest.fixture
def rig(tmp_path):
    r = Linked(seed=5, flash_dir=str(tmp_path / "flash"), config_dir=str(tmp_path / "host"))
    yield r
    r.close()


def _channel(frame):
    return frame[0] >> 4, frame[0] & 0x7


def test_a_message_cut_by_a_disconnect_arrives_once_glasses_to_phone(rig):
    async def scenario():
        await rig.start()
        phone = rig.phone
        await phone.wait_open(30)
        got = []
        phone.on("event", lambda topic, payload: got.append((topic, payload)))
        seen = [0]
        sizes = []  # FILE frames after the reconnect
        feed = phone.driver.feed

        def tap(frame):  # what reaches the phone: drop the link at the 3rd fragment
            if frame[0] >> 4 == FILE:
                seen[0] += 1
                if seen[0] == 3:
                    rig.world.radio.drop()
                    return
                if seen[0] > 3:
                    sizes.append(len(frame))
            feed(frame)

        phone.driver.feed = tap
        link = rig.glasses.app.link
        assert link.send(FILE, kinds.event("big", BIG))
        while phone.is_open() or seen[0] < 3:
            await asyncio.sleep(0.01)
        await phone.wait_open(30)
        for _ in range(200):
            await asyncio.sleep(0.05)
            if got and link.session.pending(FILE) == 0:
                break
        await asyncio.sleep(2)  # time for a duplicate, if there were one
        return got, sizes, link.session.stats(), phone.session.stats()

    got, sizes, g, h = rig.run(scenario())
    assert [e for e in got if e[0] == "big"] == [("big", BIG)]  # (the glasses also say
    # "wear put_on" etc. on their own)
    # the whole message again, in full frames: the resumed session uses ATT MTU 247
    assert len(sizes) == 8 and sizes[:-1] == [244] * 7
    assert g["retransmits"] >= 1 and g["connects"] == 2
    assert h["duplicates"] == 0 and h["bad_frames"] == 0


def test_a_message_cut_by_a_disconnect_arrives_once_phone_to_glasses(rig):
    async def scenario():
        await rig.start()
        phone = rig.phone
        await phone.wait_open(30)
        app = rig.glasses.app
        got = []
        app.link.route(kinds.EVENT, lambda m: got.append((m[1], m[2])))
        gatt = app.gatt
        seen = [0]
        on_frame = gatt.on_frame

        def tap(frame):  # what reaches the glasses' session
            if _channel(frame) == (FILE, 0):
                seen[0] += 1
                if seen[0] == 3:
                    rig.world.radio.drop()
                    return
            on_frame(frame)

        gatt.on_frame = tap
        assert phone.send(FILE, kinds.event("big", BIG))
        while phone.is_open() or seen[0] < 3:
            await asyncio.sleep(0.01)
        await phone.wait_open(30)
        for _ in range(200):
            await asyncio.sleep(0.05)
            if got and phone.session.pending(FILE) == 0:
                break
        await asyncio.sleep(2)
        return got, app.link.session.stats(), phone.session.stats()

    got, g, h = rig.run(scenario())
    assert got == [("big", BIG)]
    assert h["retransmits"] >= 1 and h["connects"] == 2
    assert g["duplicates"] == 0 and g["bad_frames"] == 0


def test_audio_gaps_are_reported_not_hidden(rig):
    """The glasses stream 150 audio packets at 20 ms; the wearer walks out of range for
    1 s in the middle (the connection survives: the supervision timeout is 4 s). The
    sender's queue drops the oldest packets; the phone gets a gap report for each hole,
    exactly as large as the hole, before the next packet; both sides count them."""
    n_packets = 150

    async def scenario():
        await rig.start()
        phone = rig.phone
        await phone.wait_open(30)
        seen = []  # ("pkt", index) and ("gap", count) in arrival order
        phone.on("audio", lambda pkt: seen.append(("pkt", pkt[0] | pkt[1] << 8)))
        phone.on("session", lambda kind, d: seen.append(("gap", d[1]))
                 if kind == EV_AUDIO_GAP else None)
        link = rig.glasses.app.link

        async def stream():
            for i in range(n_packets):
                link.send_audio(bytes((i & 0xFF, i >> 8)) + bytes(160))
                if i == 40:
                    rig.world.radio.walk_away(1.0)
                await S.sleep_ms(20)

        rig.glasses.sched.spawn(stream, name="stream", prio=S.PRIO_AUDIO)
        rig.glasses.driver.kick()
        await asyncio.sleep(n_packets * 0.02 + 2)
        st = await phone.status()
        return seen, st

    seen, st = rig.run(scenario())
    pkts = [i for kind, i in seen if kind == "pkt"]
    gaps = [n for kind, n in seen if kind == "gap"]
    assert pkts == sorted(set(pkts)) and pkts[-1] == n_packets - 1
    assert gaps, "nothing was lost: the fade did not bite"
    # every hole between two received packets was reported, with its size, just before
    prev = None
    for k, (kind, v) in enumerate(seen):
        if kind != "pkt":
            continue
        hole = v - prev - 1 if prev is not None else 0
        if hole:
            assert seen[k - 1] == ("gap", hole), (k, seen[k - 3:k + 1])
        else:
            assert k == 0 or seen[k - 1][0] == "pkt"
        prev = v
    assert len(pkts) + sum(gaps) == n_packets - pkts[0]
    assert st["host_link"]["audio_lost"] == sum(gaps)  # the phone's status says so
    assert st["link"]["audio_dropped"] >= sum(gaps)  # and the glasses' too


JUNK = [
    b"\x10",  # shorter than a header
    b"\x18\x00\x00ab",  # reserved flag
    b"\x53\x00\x00ab",  # unknown channel 5
    b"\x13\xe8\x03\xa0",  # EVENTS seq 1000: out of the window
    b"\x14\x00\x50\x08",  # an ack for EVENTS messages never sent
    b"\x43\x00\x00\xff",  # LOG message 0 whose CBOR does not decode
    b"\x42\x00\x00ab",  # a LOG fragment without its start
    b"\xf4\x00\x00\x01",  # a keepalive with a body
    b"\xf3\x00\x00\xff",  # a link message that is not CBOR
    b"\x24\x00\x00\x08",  # an ack on the audio channel, which has none
]


def test_junk_frames_from_a_misbehaving_phone_are_refused_counted_and_survived(rig):
    async def scenario():
        await rig.start()
        phone = rig.phone
        await phone.wait_open(30)
        session = rig.glasses.app.link.session
        before = session.stats()
        app = rig.glasses.app
        got = []
        app.link.route(kinds.EVENT, lambda m: got.append(m[1]))
        for frame in JUNK:  # written to RX as a buggy or hostile phone app would
            await phone.client.write_gatt_char(uuids.RX, frame, response=False)
        await asyncio.sleep(0.5)
        after = session.stats()
        assert phone.send(EVENTS, kinds.event("after the junk"))
        st = await phone.status()  # the session goes on
        await asyncio.sleep(0.5)
        return before, after, st, got, session.stats()

    before, after, st, got, final = rig.run(scenario())
    assert after["bad_frames"] - before["bad_frames"] == len(JUNK)
    assert after["state"] == "open" and after["connects"] == before["connects"] == 1
    assert st["link"]["bad_frames"] == len(JUNK)  # the phone can see it in the status
    assert got == ["after the junk"]  # nothing of the junk was delivered
    assert final["goodput_in"] > after["goodput_in"]
