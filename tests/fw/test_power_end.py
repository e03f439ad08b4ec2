# The battery's end, sans-IO: when to turn off (firmware/power/policy.py), the wall clock
# kept through deep sleep (firmware/runtime/wall.py), timers exported with what is left
# and spoken late (firmware/voice/timers.py). CPython and MicroPython.
from fwtest import raises, temp_root

from firmware.power.policy import POWER, End
from firmware.runtime.clock import VirtualClock
from firmware.runtime.store import Store
from firmware.runtime.wall import EPOCH_2024, Wall, hhmm
from firmware.voice.timers import Timers, late_text

HEAP_BUDGET = {}
DEEPSLEEP_RESET = 4
PWRON_RESET = 1


def test_the_cut_off_needs_readings_in_a_row_and_fires_once():
    e = End()
    assert not e.feed(2, 3.5, False)  # one low reading under a load peak
    assert not e.feed(40, 3.8, False)  # ... and the cell recovers: the count starts over
    assert not e.feed(10, 3.19, False)  # low by voltage
    assert e.feed(1, 3.3, False)  # two in a row: now
    assert not e.feed(1, 3.1, False) and e.due  # once
    assert e.last == (1, 3.1)
    e = End()
    for _ in range(10):
        assert not e.feed(0, 3.0, True)  # on the charger it never turns off


def test_resume_needs_the_hysteresis_or_a_charger():
    e = End()
    assert not e.resume_ok(4, 3.6, False)  # above the cut-off, below resume_pct
    assert not e.resume_ok(6, 3.40, False)  # rested voltage still under resume_v
    assert e.resume_ok(6, 3.5, False)
    assert e.resume_ok(0, 3.0, True)


def test_bad_power_settings_are_refused():
    raises(ValueError, End, {"cutoff_pct": 5, "resume_pct": 5})
    raises(ValueError, End, {"cutoff_v": 3.5, "resume_v": 3.4})
    raises(ValueError, End, {"confirm": 0})
    assert End({"cutoff_pct": 3}).c["cutoff_pct"] == 3 and POWER["cutoff_pct"] == 2


def test_the_wall_clock_survives_a_deep_sleep_but_not_a_power_on():
    root = temp_root("wall")
    clock = VirtualClock(seed=3)
    st = Store(root)
    w = Wall(clock, st, reset_cause=PWRON_RESET)
    assert not w.known() and w.now_s() is None
    seen = []
    w.on_known(lambda: seen.append(w.now_s()))
    unix = EPOCH_2024 + 86400 + 14 * 3600 + 2 * 60  # 2024-01-02 14:02 UTC
    w.set(unix)
    assert seen == [86400 + 14 * 3600 + 120] and hhmm(w.now_s()) == "14:02"
    assert hhmm(w.now_s(), 60) == "15:02"
    clock.advance_ms(3600 * 1000)  # an hour on, asleep: the RTC ran on
    after = Wall(clock, Store(root), reset_cause=DEEPSLEEP_RESET)
    assert after.restored and hhmm(after.now_s()) == "15:02"
    cold = Wall(clock, Store(root), reset_cause=PWRON_RESET)  # the RTC started over
    assert not cold.known()
    raises(ValueError, w.set, 1000)
    raises(ValueError, w.set, True)


def test_timers_export_what_is_left_and_a_late_one_says_so():
    clock = VirtualClock(seed=4)
    t = Timers(clock)
    assert t.add(300) and t.add(600, "call mum")
    clock.advance_ms(100500)
    left = t.export()
    assert left == [[200, 300, None], [500, 600, "call mum"]], left
    t2 = Timers(clock)
    assert t2.add(600, "call mum", left_s=500)
    assert t2.export() == [[500, 600, "call mum"]]
    assert late_text(600, "call mum", 1500) == "Reminder, 25 minutes late: call mum"
    assert late_text(600, "call mum", 30) == "Reminder, a moment late: call mum"
    assert late_text(300, None, 9000) == "Your 5 minute timer finished while the glasses were off."
    assert "3 hours late" in late_text(60, "stretch", 3 * 3600 + 5)
