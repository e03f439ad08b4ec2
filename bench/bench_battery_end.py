"""The battery's end (firmware/power/, docs/power.md): how long the clean end takes and
how long the reserve it leaves lasts (CPython; bench/run.py calls run()).

empty_to_off_s: the real firmware on the simulated XIAO with its phone over bumble, in
virtual time: from the cut-off reading (the second in a row at 2 % / 3.2 V) to deep sleep:
the goodbye chime and sentence (through the phone's speech), the EVENT "power" the phone
acknowledges, the record in flash.

deep_sleep_days_on_reserve: the cell from the cut-off to the gauge's 0 % (the reserve;
the cell holds a little more below it, before the protection circuit cuts it) over the
board's average current while asleep for the battery: the deep-sleep current, the board's
quiescent and, every recheck_s, a timer wake that boots, reads the gauge and sleeps again
(measured over DAY_S of virtual time on the power meter).
"""
import asyncio
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

BOARD = "xiao_esp32s3_sense"
DAY_S = 86400


def run():
    from sim.linked import Linked  # (first: it installs the MicroPython mirrors)
    from firmware.power.policy import POWER

    rig = Linked(BOARD, seed=9, config={"voice_vad": False})
    w = rig.world
    out = {}

    async def scenario():
        await rig.start()
        await rig.phone.wait_open(30)
        app = rig.glasses.app
        w.battery.set_soc(POWER["cutoff_pct"] + 0.2)
        w.power.set_adder("drain", 150.0)  # the last 0.2 % in seconds
        while not app.power.end.due:
            await asyncio.sleep(0.05)
        t_cut = w.now_s()
        w.power.set_adder("drain", 0.0)
        while w.power.state != "deepsleep":
            await asyncio.sleep(0.05)
        out["empty_to_off_s"] = w.now_s() - t_cut
        out["soc"] = w.battery.soc  # a fraction
        r0 = w.power.report()
        boots0 = rig.glasses.boots
        await asyncio.sleep(DAY_S)
        r1 = w.power.report()
        mah = (sum(r1["state_mah"].values()) + sum(r1["adder_mah"].values())
               - sum(r0["state_mah"].values()) - sum(r0["adder_mah"].values()))
        out["asleep_ma"] = mah * 3600 / (r1["seconds"] - r0["seconds"])
        out["rechecks"] = rig.glasses.boots - boots0
    try:
        rig.run(scenario())
    finally:
        rig.close()
    assert out["rechecks"] >= DAY_S // POWER["recheck_s"] - 1, out
    reserve_mah = w.data["battery_mah"] * out["soc"]  # to the gauge's 0 % (the cell has
    #                                                   a little more below it)
    return {
        "empty_to_off_s": round(out["empty_to_off_s"], 2),
        "battery_end_asleep_ua": round(out["asleep_ma"] * 1000, 1),
        "battery_end_rechecks_per_day": out["rechecks"],
        "battery_end_reserve_mah": round(reserve_mah, 1),
        "deep_sleep_days_on_reserve": round(reserve_mah / out["asleep_ma"] / 24, 1),
    }


if __name__ == "__main__":
    for k, v in run().items():
        print("%s: %s" % (k, v))
