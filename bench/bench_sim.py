"""Simulator figures (CPython; bench/run.py calls run()).

sim_virtual_speedup: simulated seconds per wall second for one hour of idle glasses (worn,
  firmware running its sensor service and heartbeat, no radio yet) in virtual time.
sim_audio_clock_error_ppm: frames the simulated microphone delivered through machine.I2S
  (non-blocking, 20 ms buffers) over 60 simulated seconds, against 60 x rate.
sim_idle_avg_ma / sim_idle_battery_life_h: the power estimate of that idle hour.
sim_virtual_speedup_connected: the same hour with the radio and a phone: the glasses paired
  with the in-process host over the bumble stacks (sim/linked.py) and the link kept open
  (keepalives each way every second), counted from the moment the link is open.
"""
import asyncio
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

RATE = 16000


def idle_hour(board="xiao_esp32s3_sense", seed=1):
    from sim.runner import SimGlasses
    g = SimGlasses(board, seed=seed, keep_log=False)
    g.world.part("prox").put_on()
    t0 = time.perf_counter()
    g.run_for(3600)
    wall = time.perf_counter() - t0
    rep = g.world.power.report()
    g.close()
    return wall, rep


def idle_hour_connected(board="xiao_esp32s3_sense", seed=1):
    import asyncio
    import tempfile

    from sim.linked import Linked
    tmp = tempfile.TemporaryDirectory(prefix="bench_sim_")
    rig = Linked(board, seed=seed, keep_log=False, flash_dir=tmp.name + "/flash",
                 config_dir=tmp.name + "/host")

    async def hour():
        await rig.start()
        await rig.phone.wait_open(30)
        t0 = time.perf_counter()
        await asyncio.sleep(3600)
        wall = time.perf_counter() - t0
        assert rig.phone.is_open() and rig.phone.connects == 1, "the link did not stay up"
        return wall

    try:
        return rig.run(hour())
    finally:
        rig.close()
        tmp.cleanup()


def audio_clock(seconds=60, seed=1):
    from sim import boards
    from sim.world import World
    w = World(boards.load("xiao_esp32s3_sense"), seed=seed).activate()
    w.populate()
    import machine
    i2s = machine.I2S(0, sck=machine.Pin(7), ws=machine.Pin(8), sd=machine.Pin(9),
                      mode=machine.I2S.RX, bits=16, format=machine.I2S.MONO, rate=RATE,
                      ibuf=16000)
    buf = bytearray(640)
    got = [0]

    def filled(obj):
        got[0] += len(buf) // 2
        i2s.readinto(buf)

    i2s.irq(filled)
    i2s.readinto(buf)
    w.loop.run_until_complete(asyncio.sleep(seconds))
    i2s.irq(None)
    frames = got[0]
    w.close()
    return frames


def run():
    wall, rep = idle_hour()
    wall_connected = idle_hour_connected()
    frames = audio_clock(60)
    expected = 60 * RATE
    return {
        "sim_virtual_speedup": round(3600 / wall, 1),
        "sim_virtual_speedup_connected": round(3600 / wall_connected, 1),
        "sim_audio_clock_error_ppm": round((frames - expected) / expected * 1e6, 3),
        "sim_idle_avg_ma": round(rep["avg_ma"], 3),
        "sim_idle_battery_life_h": round(rep["battery_life_h"], 1),
        "sim_idle_lightsleep_fraction": round(rep["state_fraction"]["lightsleep"], 4),
    }


if __name__ == "__main__":
    print(run())
