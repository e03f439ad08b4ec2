"""The idle levers of stock MicroPython (docs/power.md, "Longer on stock firmware"), on
the real firmware with its phone over bumble in virtual time: the CPU clock drops to the
board's cpu_hz_idle while only the connection holds it awake and comes back to full speed
for the microphone; the phone's interval policy moves the connection to the slow end of
the glasses' preferred range when the link is idle and back at once when audio flows; the
log streamer does not wake while nobody asked for logs."""
import asyncio

from host_tools.power.host import IntervalPolicy
from sim.linked import Linked


def test_the_clock_and_the_interval_follow_the_load():
    rig = Linked(seed=17, config={"voice_vad": False})
    w = rig.world
    seen = {}

    async def scenario():
        await rig.start()
        policy = IntervalPolicy(rig.phone)
        await rig.phone.wait_open(30)
        g = rig.glasses
        b = g.board
        await asyncio.sleep(1)
        assert w.cpu_hz == 80000000 and b.awake_reasons() == ("ble",)
        idle_ma = w.power.currents_ma["idle"]
        assert idle_ma < w.data["currents_ma"]["idle"]
        await asyncio.sleep(IntervalPolicy.IDLE_S + 3)
        assert policy.idle and rig.radio_power.interval_ms == 30.0
        runs = {t[0]: t[3] for t in g.sched.stats()}
        await asyncio.sleep(10)
        after = {t[0]: t[3] for t in g.sched.stats()}
        seen["log_runs"] = after["logs"] - runs["logs"]
        # the wearer speaks: the microphone wants full speed, the link the fast interval
        b.stay_awake("mic", True)
        assert w.cpu_hz == 160000000
        assert w.power.currents_ma["idle"] == w.data["currents_ma"]["idle"]
        rig.phone.emit("audio", b"\x00" * 8)  # what the phone hears first
        await asyncio.sleep(1)
        assert not policy.idle and rig.radio_power.interval_ms == 15.0
        b.stay_awake("mic", False)
        assert w.cpu_hz == 80000000 and b.clock_changes >= 3
        assert policy.changes >= 2
    try:
        rig.run(scenario())
    finally:
        rig.close()
    assert seen["log_runs"] == 0  # no 200 ms polling while nobody asked for logs


def test_a_reset_boots_at_the_full_clock():
    rig = Linked(seed=18, config={"voice_vad": False})
    w = rig.world

    async def scenario():
        await rig.start()
        await rig.phone.wait_open(30)
        assert w.cpu_hz == 80000000
        w.request_reset(5, "soft reset")
        g = rig.glasses
        while g.boots < 2:
            await asyncio.sleep(0.001)
        # the new boot started at 160 MHz (one change, to idle, at the end of its start)
        assert g.board.clock_changes == 1 and w.cpu_hz == 80000000
        assert w.power.currents_ma["idle"] == w.data["currents_ma_at_mhz"][80]["idle"]
    try:
        rig.run(scenario())
    finally:
        rig.close()
