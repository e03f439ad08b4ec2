# Battery policy: level notifications, low warnings once per crossing and re-arming,
# critical shedding, OTA refusal. CPython and MicroPython. Heap budget: 8 KB per test.
from fwtest import raises

from firmware.sense import battery as B

HEAP_BUDGET = {}


def _bat(**cfg):
    out = []
    c = dict(B.BATTERY)
    c.update(cfg)
    b = B.Battery(notify_level=lambda p: out.append(("level", p)),
                  chime=lambda n: out.append(("chime", n)),
                  speak=lambda s: out.append(("speak", s)),
                  shed=lambda on: out.append(("shed", on)),
                  config=c)
    return b, out


def _run(b, socs, charging=False, t=0):
    for s in socs:
        b.on_battery(s, 3.7, charging, t)
        t += 60000
    return t


def _only(out, kind):
    return [x[1] for x in out if x[0] == kind]


def test_level_notified_on_each_whole_percent_change_only():
    b, out = _bat()
    _run(b, [80.9, 80.2, 80.0, 79.6, 79.1, 78.99, 78.5])
    assert _only(out, "level") == [80, 79, 78]
    assert b.level == 78


def test_each_threshold_warns_once_while_discharging():
    b, out = _bat()
    _run(b, [23, 21, 20, 20, 19, 20, 19, 15, 11, 10, 9, 6, 5, 4])
    assert _only(out, "speak") == ["Battery low, 20 percent", "Battery low, 10 percent",
                                   "Battery low, 5 percent"]
    assert _only(out, "chime") == ["battery_low"] * 3
    assert b.warnings == 3


def test_a_drop_across_several_thresholds_warns_once():
    b, out = _bat()
    _run(b, [22, 8])  # e.g. the radio came on and the gauge re-estimated
    assert _only(out, "speak") == ["Battery low, 8 percent"]
    _run(b, [7, 6])
    assert len(_only(out, "speak")) == 1  # 20 and 10 were both disarmed by that warning


def test_warnings_rearm_only_after_charging_above_the_hysteresis():
    b, out = _bat()
    _run(b, [25, 20, 19])
    _run(b, [21, 22, 24], charging=True)  # charged, but not to 20 + 5
    _run(b, [20])
    assert len(_only(out, "speak")) == 1
    _run(b, [25], charging=True)  # re-armed
    _run(b, [24, 21, 20])
    assert _only(out, "speak") == ["Battery low, 20 percent"] * 2
    # a gauge wobble upwards without a charger does not re-arm
    _run(b, [26, 19])
    assert len(_only(out, "speak")) == 2


def test_no_warning_while_charging_but_one_when_unplugged_low():
    b, out = _bat()
    _run(b, [12, 11], charging=True)
    assert _only(out, "speak") == []
    _run(b, [11])
    assert _only(out, "speak") == ["Battery low, 11 percent"]


def test_critical_sheds_load_once_and_recovers_with_hysteresis():
    b, out = _bat()
    _run(b, [5, 4, 3, 2, 3, 4])
    assert _only(out, "shed") == [True] and b.shedding
    assert "battery_critical" in _only(out, "chime")
    assert not b.ota_allowed() and "critical" in b.ota_refusal()
    _run(b, [5])
    assert _only(out, "shed") == [True, False] and not b.shedding
    _run(b, [3])
    _run(b, [3], charging=True)  # plugged in: stop shedding at once
    assert _only(out, "shed") == [True, False, True, False]


def test_ota_refusals_say_why():
    b, _ = _bat()
    assert "not measured" in b.ota_refusal()
    _run(b, [15])
    assert "below the 20%" in b.ota_refusal()
    _run(b, [15], charging=True)
    assert b.ota_allowed()
    _run(b, [80])
    assert b.ota_allowed()
    b2, _ = _bat(ota_needs_charging=True)
    _run(b2, [90])
    assert "only while charging" in b2.ota_refusal()
    _run(b2, [90], charging=True)
    assert b2.ota_allowed()


def test_a_gauge_fault_refuses_ota_and_bad_readings_are_ignored():
    b, out = _bat()
    _run(b, [50])
    b.on_battery(180.0, 3.7, False, 0)
    b.on_battery(float("nan"), 3.7, False, 0)
    b.on_battery(-3, 3.7, False, 0)
    assert b.bad_samples == 3 and b.level == 50 and _only(out, "level") == [50]
    assert not b.on_fault("prox", "x")
    assert b.on_fault("fuel_gauge", "I2C timeout")
    assert b.level == -1 and "fuel gauge: I2C timeout" in b.ota_refusal()
    _run(b, [49])
    assert b.fault is None and b.ota_allowed()


def test_a_failing_events_channel_does_not_stop_the_warning():
    said = []

    def full(kind, payload):
        raise OSError("events channel full")
    b = B.Battery(speak=said.append, shed=said.append, emit=full)
    _run(b, [21, 20, 3])
    b.on_fault("fuel_gauge", "gone")
    assert said == ["Battery low, 20 percent", "Battery low, 3 percent",
                    "Battery critical, saving power", True], said


def test_bad_thresholds_are_refused():
    c = dict(B.BATTERY)
    c["warn_pct"] = (20, 0)
    raises(ValueError, B.Battery, config=c)


for _name in list(globals()):
    if _name.startswith("test_"):
        HEAP_BUDGET[_name] = 8192
