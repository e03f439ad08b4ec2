"""The firmware core in virtual time, with a host decoding what it sends.

Until the full board simulator lands this is what `make sim` runs: the real scheduler
runs sensor, link, heartbeat and a deliberately flaky task; the link task encodes events
as CBOR, splits them into frames for a 247-byte ATT MTU, and a host-side Reassembler joins
and decodes them. Everything printed comes from that real code path.
"""
import random

from sim import mirror

mirror.install()

from firmware.link import cbor, frame  # noqa: E402
from firmware.runtime import sched as S  # noqa: E402
from firmware.runtime.clock import VirtualClock  # noqa: E402
from firmware.runtime.log import Log, format_record  # noqa: E402
from firmware.runtime.sync import Queue  # noqa: E402

MTU = 247


def main(seconds=20, seed=None):
    if seed is None:
        seed = random.randrange(1 << 30)
    print("glasses core demo: seed %d, %d simulated seconds" % (seed, seconds))
    clock = VirtualClock(seed)
    rng = random.Random(seed)
    log = Log(64, clock=clock, sink=lambda *r: print("  fw  " + format_record(*r)))
    s = S.Scheduler(clock=clock, log=log)
    events = Queue(8)
    host = frame.Reassembler(max_message=2048)
    seq = [0]
    sent = {"frames": 0, "bytes": 0}

    def t():
        return "%7.3fs" % (clock.elapsed_ms() / 1000)

    async def sensors():
        while True:
            await S.sleep_ms(rng.randrange(300, 1500))
            kind = rng.choice(["tap", "double_tap", "nod", "worn", "battery"])
            body = {0: kind, 1: clock.elapsed_ms()}
            if kind == "battery":
                body[2] = rng.randrange(20, 100)
            await events.put(body)

    async def link():
        buf = bytearray(MTU - frame.ATT_OVERHEAD)
        while True:
            await events.wait()
            msg = cbor.dumps({0: 2, 1: seq[0], 2: events.get_nowait()})
            off = 0
            while off < len(msg):
                n, off = frame.split_into(buf, 1, seq[0], msg, off, MTU)
                sent["frames"] += 1
                sent["bytes"] += n
                got = host.feed(bytes(buf[:n]))
                if got is not None:
                    print("%s host got event #%d: %s" % (t(), got[2], cbor.loads(got[3])))
                await S.sleep_ms(15)  # one frame per 15 ms connection event
            seq[0] = (seq[0] + 1) & 0xFFFF

    async def heartbeat():
        on = False
        while True:
            on = not on
            await S.sleep_ms(1000 if on else 4000)

    async def flaky():
        await S.sleep_ms(rng.randrange(2000, 6000))
        raise OSError(19, "ENODEV: IMU stopped answering")

    s.spawn(sensors, prio=S.PRIO_SENSOR)
    s.spawn(link, prio=S.PRIO_LINK)
    s.spawn(heartbeat, prio=S.PRIO_BACKGROUND)
    s.spawn(flaky, prio=S.PRIO_SENSOR, restart=S.RESTART_ON_ERROR, backoff_ms=500,
            max_backoff_ms=4000, max_restarts=3)
    s.run(until_ms=seconds * 1000)
    print("\n%-10s %-9s %4s %6s %10s" % ("task", "state", "prio", "runs", "restarts"))
    for name, state, prio, runs, _run_us, _worst, restarts in s.stats():
        print("%-10s %-9s %4d %6d %10d" % (name, state, prio, runs, restarts))
    print("\nframes sent %d (%d bytes), idle %.1f%% of %d s, seed %d" % (
        sent["frames"], sent["bytes"], 100.0 * s.idle_ms / (seconds * 1000), seconds, seed))
    return 0
