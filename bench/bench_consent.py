"""Consent figures (docs/security.md), over the real stacks in virtual time, against a
stranger on plain bumble (tests/hostile.py):

- owner_connect_ms_with_squatter_p50 / _max: a stranger connects and squats while the
  owner's phone is away; from the owner's phone starting until its link is open (20 tries).
- stranger_bonds: bonds a stranger got over 100 pairing tries outside the window.
- cross_phone_leaks: messages that reached the wrong phone (or the wrong session on the
  glasses), two phones taking turns through random walk-aways, out of cross_phone_messages.
"""
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from sim import mirror  # noqa: E402

mirror.install()  # the firmware's MicroPython modules, before anything imports it

from hostile import Stranger, still_connected  # noqa: E402
from phones import Turns  # noqa: E402
from sim.linked import Linked  # noqa: E402


def _rig(seed):
    d = Path(tempfile.mkdtemp(prefix="bench-consent-"))
    return Linked(seed=seed, flash_dir=str(d / "flash"), config_dir=str(d / "owner"),
                  notify=False, voice=False), d


async def _away(rig):
    rig.phone.stop()
    gatt = rig.glasses.app.gatt
    while gatt.connected:
        await asyncio.sleep(0.05)


def squatter_tries(n=20):
    rig, _ = _rig(41)
    times = []

    async def scenario():
        await rig.start()
        await rig.phone.wait_open(30)
        for i in range(n):
            await _away(rig)
            s = await Stranger(rig.world.radio, seed=100 + i).start()
            conn = await s.connect(await s.find())
            t0 = rig.loop.time()
            rig.phone = rig.make_phone()
            rig._tasks.append(rig.loop.create_task(rig.phone.run()))
            await rig.phone.wait_open(30)
            times.append((rig.loop.time() - t0) * 1000)
            await still_connected(conn, 0.1)
            await s.close()

    try:
        rig.run(scenario())
    finally:
        rig.close()
    return times


def stranger_tries(n=100):
    rig, _ = _rig(42)
    got = [0, 0]

    async def scenario():
        await rig.start()
        await rig.phone.wait_open(30)
        await _away(rig)
        gatt = rig.glasses.app.gatt
        for i in range(n):
            s = await Stranger(rig.world.radio, seed=1000 + i).start()  # a new address each
            conn = await s.connect(await s.find())
            await s.pair(conn)
            if await still_connected(conn, 1.0) and gatt.authorised:
                got[0] += 1
            await s.close()
            while gatt.connected:
                await asyncio.sleep(0.05)
        got[1] = len(gatt.bonds.peers()) - 1  # the owner's is the one expected

    try:
        rig.run(scenario())
    finally:
        rig.close()
    return max(got)


def cross_phone(target=10000, burst=24):
    rig, d = _rig(43)
    out = {}

    async def scenario():
        await rig.start()
        await rig.phone.wait_open(30)
        t = Turns(rig, d, seed=43)
        t.add_phone("phone-a", rig.phone)
        t.wire_glasses()
        rig.glasses.app.gatt.open_pairing()
        t.away("phone-a", 6)
        t.add_phone("phone-b")
        names = ["phone-b", "phone-a"]
        i = 0
        while sum(len(v) for v in t.sent_to.values()) + \
                sum(len(v) for v in t.sent_from.values()) < target:
            name = names[i % 2]
            await t.phones[name].wait_open(60)
            for _ in range(t.rng.randint(1, 4)):
                t.burst(name, t.rng.randint(1, burst))
                await asyncio.sleep(t.rng.uniform(0.0, 0.3))
            t.away(name, 12)  # dropped with some of it in flight
            i += 1
        out["done"] = await t.settle(600)
        out["leaks"], out["delivered"] = t.leaks()
        out["rounds"] = i

    try:
        rig.run(scenario())
    finally:
        rig.close()
    return out


def run():
    times = squatter_tries()
    x = cross_phone()
    return {
        "owner_connect_ms_with_squatter_p50": round(statistics.median(times)),
        "owner_connect_ms_with_squatter_max": round(max(times)),
        "stranger_bonds": stranger_tries(),
        "cross_phone_leaks": x["leaks"] + (0 if x["done"] else 1),
        "cross_phone_messages": x["delivered"],
        "cross_phone_rounds": x["rounds"],
    }


if __name__ == "__main__":
    for k, v in run().items():
        print("%s: %s" % (k, v))
