"""The link's figures end to end: the firmware's link service on the simulated glasses,
the phone role on bleak, both bumble stacks, the paced radio (sim/linked.py), in virtual
time. Settings: LE 2M PHY, LL data length 251, ATT MTU 247, 15 ms connection interval
(the interval the glasses ask for; the model's ceiling: 162.7 kB/s).

- link_goodput_ratio: FILE-channel messages (1928 encoded bytes: 8 full frames) pushed
  from a firmware task as fast as the outbox takes them; message bytes delivered to the
  phone's app per second over 3 s of steady state, divided by
  sim/linkmodel.ceiling_bytes_per_s at those settings. Also link_goodput_kBps, and
  link_goodput_ratio_file_outbox_16k: the same with the FILE outbox at 16 KB instead of
  8 KB (what the outbox's byte cap costs: see docs/link.md, "Figures").
- link_overhead_pct: in that transfer, what crossed the air as link frames (counted
  where each side's stack hands them over): 3-byte headers of the FILE data frames plus
  every byte of every ack / keepalive (both directions), over the FILE payload bytes.
- link_resume_ms / link_resume_intervals: the link drops while the glasses have EVENTS
  messages in flight (sent, not acknowledged); the phone reconnects by itself. From the
  phone's hello reaching the glasses (the session restarts there) to the first of the
  messages sent before the drop being delivered to the phone's app (a retransmission),
  in ms and in connection intervals. link_resume_from_link_up_ms: from the phone's
  session link-up (connected, encrypted, subscribing, hello sent) instead;
  link_resume_host_to_glasses_ms: the other direction, from the same hello;
  link_reconnect_ms: from the drop to that delivery (backoff, scan, connect,
  re-encryption, MTU, interval update, discovery, hello).
"""
import asyncio
import os
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from sim import mirror  # noqa: E402

mirror.install()

from firmware.protocol import kinds  # noqa: E402
from firmware.protocol.channels import EVENTS, FILE, OUTBOX_BYTES  # noqa: E402
from firmware.protocol.frame import F_CTRL, HEADER_LEN  # noqa: E402
from firmware.runtime import sched as S  # noqa: E402
from firmware.runtime.sync import Flag  # noqa: E402
from sim.linkmodel import LinkSettings, ceiling_bytes_per_s  # noqa: E402

SETTINGS = LinkSettings(interval_ms=15, phy="2M", data_length=251, att_mtu=247)
FRAMES = 8  # frames per bulk message, all full
WINDOW_S = 3.0


def _bulk_message():
    """An EVENT {0: 7, 1: "bulk", 2: bytes} whose encoding fills FRAMES frames exactly."""
    from firmware.runtime import cbor
    room = FRAMES * (SETTINGS.att_mtu - 6)
    n = room - len(cbor.dumps(kinds.event("bulk", bytes(room))) ) + room
    msg = kinds.event("bulk", bytes(n))
    assert len(cbor.dumps(msg)) == room
    return msg, room


def _rig(tmp, seed):
    from sim.linked import Linked
    return Linked(seed=seed, radio=SETTINGS, flash_dir=os.path.join(tmp, "flash"),
                  config_dir=os.path.join(tmp, "host"))


def _taps(rig, on_glasses_frame, on_phone_frame):
    """Call on_*(frame, time) for every frame a side receives off the air (False: the
    frame is lost)."""
    phone = rig.phone
    gatt = rig.glasses.app.gatt
    feed = phone.driver.feed
    on_frame = gatt.on_frame
    loop = rig.loop

    def phone_rx(frame):
        if on_phone_frame(frame, loop.time()) is not False:
            feed(frame)

    def glasses_rx(frame):
        if on_glasses_frame(bytes(frame), loop.time()) is not False:
            on_frame(frame)

    phone.driver.feed = phone_rx
    gatt.on_frame = glasses_rx


async def _bulk(rig):
    await rig.start()
    phone = rig.phone
    await phone.wait_open(30)
    link = rig.glasses.app.link
    msg, size = _bulk_message()
    got = []  # times of deliveries to the phone's app
    phone.on("event", lambda topic, payload: got.append(rig.loop.time()))
    air = {"data_frames": 0, "payload": 0, "ctrl": 0, "short": 0, "on": False}

    def count(frame, t):
        if not air["on"]:
            return
        if frame[0] & F_CTRL:
            air["ctrl"] += len(frame)
        elif frame[0] >> 4 == FILE:
            air["data_frames"] += 1
            air["payload"] += len(frame) - HEADER_LEN
            if len(frame) != SETTINGS.att_mtu - 3:
                air["short"] += 1
        else:
            air["ctrl"] += len(frame)  # anything else the link sends meanwhile

    _taps(rig, count, count)
    room = Flag(rig.glasses.sched)
    link.on("room", lambda ch: room.set())
    async def producer():
        while True:
            while link.send(FILE, msg):
                pass
            await room.wait(1000)

    rig.glasses.sched.spawn(producer, name="bulk", prio=S.PRIO_BACKGROUND)
    rig.glasses.driver.kick()
    await asyncio.sleep(0.5)  # start-up
    t0 = rig.loop.time()
    air["on"] = True
    await asyncio.sleep(WINDOW_S)
    air["on"] = False
    t1 = rig.loop.time()
    delivered = size * sum(1 for t in got if t0 <= t < t1)
    assert air["short"] == 0, "bulk frames were not all full"
    return delivered / (t1 - t0), air, rig.glasses.app.gatt.tx_full


def goodput(file_outbox=None, seed=11):
    from firmware.protocol import session as session_mod
    tmp = tempfile.mkdtemp(prefix="bench_link_")
    saved = session_mod.OUTBOX_BYTES
    if file_outbox is not None:  # this run's glasses and phone: a larger FILE outbox
        caps = list(OUTBOX_BYTES)
        caps[FILE] = file_outbox
        session_mod.OUTBOX_BYTES = tuple(caps)
    rig = _rig(tmp, seed)
    try:
        return rig.run(_bulk(rig))
    finally:
        session_mod.OUTBOX_BYTES = saved
        rig.close()
        shutil.rmtree(tmp, ignore_errors=True)


async def _resume(rig):
    await rig.start()
    phone = rig.phone
    await phone.wait_open(30)
    link = rig.glasses.app.link
    loop = rig.loop
    model_interval = rig.world.radio.glasses_connections()[0].interval_s
    at_phone = []  # (time, n) glasses -> phone
    at_glasses = []  # (time, n) phone -> glasses
    phone.on("event", lambda topic, n: at_phone.append((loop.time(), n)))
    link.route(kinds.EVENT, lambda m: at_glasses.append((loop.time(), m[2])))
    marks = {}
    hello_at = []
    glasses_up = link.session.link_up
    phone_up = phone.driver.link_up

    def g_up(mtu):
        hello_at.append(loop.time())
        glasses_up(mtu)

    def p_up(mtu):
        marks.setdefault("phone_up", []).append(loop.time())
        if "drop" in marks:
            marks["back"] = loop.time()
        phone_up(mtu)

    link.session.link_up = g_up
    phone.driver.link_up = p_up
    cut = {"n": None}

    def drop_at_tenth(frame, t):  # frames off the air at the phone
        if cut["n"] is not None and "back" not in marks:
            return False  # the link is gone: what was still on its way is lost
        if cut["n"] is None and len(at_phone) >= 10:
            cut["n"] = (len(at_phone), len(at_glasses))
            marks["drop"] = t
            rig.world.radio.drop()
            return False
        return True

    _taps(rig, lambda f, t: None, drop_at_tenth)
    for i in range(40):  # both sides queue more than one interval carries
        link.send(EVENTS, kinds.event("n", i))
        phone.send(EVENTS, kinds.event("n", i))
    rig.glasses.driver.kick()
    while cut["n"] is None or not phone.is_open():
        await asyncio.sleep(0.005)
    while len(at_phone) <= cut["n"][0] or len(at_glasses) <= cut["n"][1]:
        await asyncio.sleep(0.005)
    t_hello = [t for t in hello_at if t > marks["drop"]][0]
    t_up = [t for t in marks["phone_up"] if t > marks["drop"]][0]
    t_g2p, n_g2p = at_phone[cut["n"][0]]
    t_p2g, _n = at_glasses[cut["n"][1]]
    stats = link.session.stats(), phone.session.stats()
    assert stats[0]["retransmits"] > 0 and stats[1]["retransmits"] > 0
    assert n_g2p == cut["n"][0], "the first message after the resume skipped one"
    return {
        "link_resume_ms": round((t_g2p - t_hello) * 1000, 2),
        "link_resume_intervals": round((t_g2p - t_hello) / model_interval, 2),
        "link_resume_from_link_up_ms": round((t_g2p - t_up) * 1000, 2),
        "link_resume_host_to_glasses_ms": round((t_p2g - t_hello) * 1000, 2),
        "link_reconnect_ms": round((t_g2p - marks["drop"]) * 1000, 1),
    }


def resume(seed=5):
    tmp = tempfile.mkdtemp(prefix="bench_link_")
    rig = _rig(tmp, seed)
    try:
        return rig.run(_resume(rig))
    finally:
        rig.close()
        shutil.rmtree(tmp, ignore_errors=True)


def run():
    ceiling = ceiling_bytes_per_s(SETTINGS)
    gp, air, tx_full = goodput()
    gp16, _air, _tx = goodput(file_outbox=16384)
    figs = {
        "link_goodput_kBps": round(gp / 1000, 1),
        "link_goodput_ratio": round(gp / ceiling, 3),
        "link_goodput_ratio_file_outbox_16k": round(gp16 / ceiling, 3),
        "link_goodput_gatt_buffer_retries": tx_full,
        "link_overhead_pct": round(100.0 * (air["data_frames"] * HEADER_LEN + air["ctrl"])
                                   / air["payload"], 2),
    }
    figs.update(resume())
    return figs


if __name__ == "__main__":
    for k, v in run().items():
        print("%s: %s" % (k, v))
