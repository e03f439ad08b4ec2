"""The simulated radio's figures (run by bench/run.py; CPython, virtual time).

- radio_ceiling_kBps: what the link model lets through at LE 2M, 251-byte LL PDUs, ATT
  MTU 247, 15 ms connection interval (notification payload; event boundaries included).
- radio_phy_ceiling_kBps_2M / _1M: the same with no event boundaries (the figures usually
  quoted, ~175 and ~99 kB/s).
- radio_notify_goodput_kBps and radio_goodput_ratio: what the firmware's GattPeripheral
  actually pushed through the bumble stacks to a bleak host at those settings (frames of
  244 bytes, retried on ENOMEM), measured in virtual time, and its ratio to the ceiling.
- radio_notify_latency_intervals_mean / _max: single notifications sent at random times,
  from send() to the host's callback, in connection intervals.
- radio_idle_hour_wall_ms / radio_idle_speedup: wall time of one virtual hour with the
  glasses connected and idle, and virtual seconds per wall second over it (an idle link
  schedules nothing, so the loop jumps the hour at once).
"""
import asyncio
import os
import random
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from sim import mirror  # noqa: E402

mirror.install()

from bleak import BleakClient, BleakScanner  # noqa: E402

from firmware.protocol import uuids  # noqa: E402
from firmware.runtime import sched as S  # noqa: E402
from host_tools.radio import open_radio  # noqa: E402
from sim.ble_rig import Glasses  # noqa: E402
from sim.kernel import new_loop  # noqa: E402
from sim.linkmodel import LinkSettings, ceiling_bytes_per_s, phy_ceiling_bytes_per_s  # noqa: E402
from sim.mirror import bluetooth  # noqa: E402
from sim.radio import Radio  # noqa: E402

SETTINGS = LinkSettings(interval_ms=15, phy="2M", data_length=251, att_mtu=247)
FRAMES = 3000
LATENCY_SAMPLES = 200


async def _measure(loop, clock, tmp):
    radio = Radio(SETTINGS, seed=11)
    g = Glasses(radio, clock, os.path.join(tmp, "flash")).start()
    host = open_radio(radio=radio, config_dir_path=os.path.join(tmp, "host"))
    dev = await BleakScanner.find_device_by_name("Glasses-A1B2", timeout=5,
                                                 backend=host.scanner)
    client = BleakClient(dev, backend=host.client)
    await client.connect()
    await client.pair()
    got = []
    await client.start_notify(uuids.TX, lambda ch, d: got.append(loop.time()))
    gatt = g.gatt
    while not (gatt.authorised and gatt.mtu == 247):
        await asyncio.sleep(0.01)
    model, = radio.glasses_connections()

    async def producer():
        frame = bytes(244)
        for _ in range(FRAMES):
            while not gatt.send(frame):
                await gatt.writable.wait(1000)

    g.spawn(producer, prio=S.PRIO_LINK)
    while len(got) < FRAMES:
        await asyncio.sleep(0.05)
    # a window of whole connection intervals, after the start-up
    t0 = got[100]
    window = 150 * model.interval_s
    goodput = 244 * sum(1 for t in got if t0 <= t < t0 + window) / window

    rng = random.Random(5)
    lat = []
    for _ in range(LATENCY_SAMPLES):
        await asyncio.sleep(rng.uniform(0.001, 0.2))
        n = len(got)
        t0 = loop.time()
        gatt.send(bytes(20))
        while len(got) == n:
            await asyncio.sleep(0.0005)
        lat.append((got[-1] - t0) / model.interval_s)

    wall0 = time.perf_counter()
    v0 = loop.time()
    await asyncio.sleep(3600)
    idle_wall = time.perf_counter() - wall0
    idle_virtual = loop.time() - v0
    await client.disconnect()
    await host.close()
    await g.stop()
    return goodput, lat, idle_wall, idle_virtual, gatt.tx_full


def run():
    tmp = tempfile.mkdtemp(prefix="bench_radio_")
    loop, clock = new_loop(True, seed=11)
    try:
        goodput, lat, idle_wall, idle_virtual, tx_full = loop.run_until_complete(
            _measure(loop, clock, tmp))
    finally:
        for t in asyncio.all_tasks(loop):
            t.cancel()
        loop.close()
        bluetooth.detach()
        shutil.rmtree(tmp, ignore_errors=True)
    ceiling = ceiling_bytes_per_s(SETTINGS)
    return {
        "radio_ceiling_kBps": round(ceiling / 1000, 1),
        "radio_phy_ceiling_kBps_2M": round(phy_ceiling_bytes_per_s("2M", 251, 247) / 1000, 1),
        "radio_phy_ceiling_kBps_1M": round(phy_ceiling_bytes_per_s("1M", 251, 247) / 1000, 1),
        "radio_notify_goodput_kBps": round(goodput / 1000, 1),
        "radio_goodput_ratio": round(goodput / ceiling, 4),
        "radio_notify_tx_full_retries": tx_full,
        "radio_notify_latency_intervals_mean": round(sum(lat) / len(lat), 3),
        "radio_notify_latency_intervals_max": round(max(lat), 3),
        "radio_idle_hour_wall_ms": round(idle_wall * 1000, 3),
        "radio_idle_speedup": round(idle_virtual / max(idle_wall, 1e-6)),
    }


if __name__ == "__main__":
    for k, v in run().items():
        print("%s: %s" % (k, v))
