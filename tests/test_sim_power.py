"""Power accounting: time per state sums exactly to the simulated time; currents, wake
costs and parts' adders add up; the battery drains by what was drawn."""
import pytest

from sim.power import STATES, PowerMeter
from sim.runner import SimGlasses

CURRENTS = {"active": 40.0, "idle": 18.0, "lightsleep": 0.25, "deepsleep": 0.01}


def test_meter_integrates_states_adders_and_wake_costs():
    t = [0]
    m = PowerMeter(CURRENTS, lambda: t[0], battery_mah=500, active_us_per_wake=1000)
    t[0] = 2000  # 2 ms active
    m.set_state("lightsleep")
    m.set_adder("led", 2.0)
    t[0] = 102000  # 100 ms asleep, led on
    m.wake()  # the wake costs 1 ms of active, out of the sleep
    m.set_adder("led", 0)
    t[0] = 103000
    m.set_state("idle")
    t[0] = 203000
    m.wake()
    t[0] = 1000000
    rep = m.report()
    us = m.state_us
    assert sum(us.values()) == 1000000 == m.elapsed_us()
    assert us == {"active": 2000 + 1000 + 1000 + 1000 + 797000, "lightsleep": 99000,
                  "idle": 99000, "deepsleep": 0, "off": 0}
    charge = sum(CURRENTS.get(s, 0.0) * us[s] for s in STATES) + 2.0 * 100000  # mA*us
    assert rep["avg_ma"] == pytest.approx(charge / 1e6)
    assert rep["battery_life_h"] == pytest.approx(500 / rep["avg_ma"])
    assert sum(rep["state_fraction"].values()) == pytest.approx(1.0)
    assert rep["wakes"] == 2
    with pytest.raises(ValueError, match="unknown power state"):
        m.set_state("hibernate")
    with pytest.raises(ValueError, match="lack deepsleep"):
        PowerMeter({"active": 1, "idle": 1, "lightsleep": 1}, lambda: 0)


def test_firmware_run_power_sums_to_simulated_time_and_drains_the_battery():
    # tap-to-talk: always-on listening would keep the CPU awake
    g = SimGlasses(seed=31, config={"voice_vad": False})
    g.world.part("prox").put_on()
    soc0 = g.world.battery.soc
    g.run_for(600)
    w = g.world
    rep = w.power.report()
    assert sum(w.power.state_us.values()) == w.now_us() == 600000000
    assert rep["seconds"] == 600.0
    assert 0.9 < rep["state_fraction"]["lightsleep"] < 1.0
    assert rep["wakes"] > 5000  # touch polling at 10 Hz, proximity, heartbeat...
    drawn_mah = rep["avg_ma"] * 600 / 3600
    w.battery.update()
    assert (soc0 - w.battery.soc) * 500 == pytest.approx(drawn_mah, rel=1e-9)
    total_mah = sum(rep["state_mah"].values()) + sum(rep["adder_mah"].values())
    assert total_mah == pytest.approx(drawn_mah, rel=1e-9)
    assert rep["adder_mah"]["prox"] > 0 and rep["adder_mah"]["imu"] > 0
    assert 0.5 < rep["avg_ma"] < 5.0, rep["avg_ma"]  # idle, worn: mostly asleep
    g.close()
