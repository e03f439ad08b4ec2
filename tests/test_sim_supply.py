"""The simulator's supply (sim/supply.py) and the battery's end (sim/devices/battery.py):
the rail through the regulator's dropout, the brown-out reset, nothing running while the
rail is down, a charger bringing the board back; deep sleep and its wake sources."""
import machine

from firmware.runtime import sched as S
from sim.runner import SimGlasses


def _boot_log(g):
    return [ln for ln in g.log_text().splitlines() if "INFO  boot: " in ln]


def test_a_dying_cell_browns_the_board_out_and_a_charger_brings_it_back():
    g = SimGlasses(seed=5, config={"voice_vad": False})
    w = g.world
    w.part("prox").put_on()
    w.battery.set_soc(-1.5)  # past what a gauge calls empty: the cell's last few mAh
    w.power.set_adder("drain", 150.0)
    g.run_for(120)
    assert [c for _t, c in g.resets] == ["brown-out"] and w.supply.brownouts == 1
    assert w.power.state == "off" and g.boots == 1
    t_out = g.resets[0][0]
    late = [ln for ln in g.log_text().splitlines()
            if ln.startswith("[") and float(ln[1:11]) > t_out + 1 and " fw " in ln]
    assert late == []  # nothing of the firmware ran while the rail was down
    v_cell = w.battery.voltage()
    assert w.supply.rail_v() < w.supply.release_v and v_cell - 0.2 < 2.7
    g.run_for(60)
    assert g.boots == 1  # at rest the dead cell does not bring it back
    w.power.set_adder("drain", 0.0)
    w.battery.set_charging(True)
    g.run_for(5)
    assert g.boots == 2 and machine.reset_cause() == machine.PWRON_RESET  # the esp32 value
    assert len(_boot_log(g)) == 2 and "the supply is back" in g.log_text()
    assert "boots 2, resets: brown-out at" in g.summary() and "off " in g.summary()
    g.close()


def test_a_buck_boost_board_runs_until_the_protection_circuit_cuts_the_pack():
    g = SimGlasses("pico2w_dev", seed=6, config={"voice_vad": False})
    w = g.world
    w.battery.set_soc(-2.5)
    g.run_for(2)
    assert w.battery.voltage() < 2.7 and w.supply.rail_v() == 3.3  # the converter holds it
    assert not g.resets
    w.power.set_adder("drain", 150.0)
    g.run_for(60)
    # the firmware turns off first (firmware/power/), and under the drain left on in deep
    # sleep the pack is cut all the same
    assert [c for _t, c in g.resets] == ["deepsleep wake", "brown-out"]
    assert "turning off" in g.log_text()
    assert w.battery.cut and w.battery.voltage() == 0.0
    assert "protection circuit disconnects the pack" in g.log_text()
    w.battery.set_charging(True)
    g.run_for(3)
    assert not w.battery.cut and g.boots == 2
    g.close()


def _sleeper(ms, touch):
    def on_boot(g):
        if g.boots == 1:
            async def sleep():
                await S.sleep_ms(500)
                if touch:
                    import esp32
                    esp32.wake_on_touch(True)
                machine.deepsleep(ms)
            g.sched.spawn(sleep)
    return on_boot


def test_deep_sleep_ends_by_its_timer_or_by_a_touch_when_armed():
    g = SimGlasses(seed=7, on_boot=_sleeper(30000, touch=False))
    g.run_for(10)
    w = g.world
    assert g.boots == 1 and w.power.state == "deepsleep"
    w.part("touch0").touch(0.2)  # not armed: nothing
    g.run_for(25)
    assert g.boots == 2 and machine.reset_cause() == machine.DEEPSLEEP_RESET
    assert "woken from deep sleep by the timer" in g.log_text()
    assert round(g.resets[0][0], 1) == 0.5
    g.close()

    g = SimGlasses(seed=7, on_boot=_sleeper(0, touch=True))  # no timer: only a touch
    g.run_for(60)
    assert g.boots == 1 and g.world.power.state == "deepsleep"
    g.world.part("touch1").touch(0.2)
    g.run_for(2)
    assert g.boots == 2 and machine.reset_cause() == machine.DEEPSLEEP_RESET
    assert "woken from deep sleep by the touch" in g.log_text()
    g.close()


def test_a_cell_that_dies_in_deep_sleep_comes_back_with_a_power_on():
    g = SimGlasses(seed=8, on_boot=_sleeper(0, touch=True))
    w = g.world
    w.battery.set_soc(-1.8)
    g.run_for(2)
    assert w.power.state == "deepsleep"
    w.power.set_adder("drain", 200.0)  # a part left drawing
    g.run_for(120)
    assert [c for _t, c in g.resets] == ["deepsleep wake", "brown-out"] and g.boots == 1
    w.power.set_adder("drain", 0.0)
    w.battery.set_charging(True)
    g.run_for(3)
    assert g.boots == 2 and machine.reset_cause() == machine.PWRON_RESET
    g.close()


def test_the_esp32_module_is_refused_on_another_port():
    import esp32
    import pytest
    g = SimGlasses("pico2w_dev", seed=9)
    with pytest.raises(OSError, match="only on the esp32 port"):
        esp32.wake_on_touch(True)
    g.close()
