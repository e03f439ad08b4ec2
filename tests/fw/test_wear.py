# Wear detection: hysteresis, debounce, the power policy, the fault fallback.
# CPython and MicroPython. Heap budget: 8 KB per test (measured < 3 KB).
from fwtest import raises

from firmware.runtime.clock import ticks_add
from firmware.sense import wear as W

T0 = (1 << 30) - 4000  # the readings cross the tick wraparound
HEAP_BUDGET = {}


def _det(**cfg):
    calls = []
    changes = []
    events = []
    pol = W.PowerPolicy(mic=lambda on: calls.append(("mic", on)),
                        audio_mute=lambda m: calls.append(("mute", m)),
                        sensor_rate=lambda r: calls.append(("rate", r)),
                        link=lambda m: calls.append(("link", m)))
    c = dict(W.WEAR)
    c.update(cfg)
    w = W.Wear(pol, lambda worn, why: changes.append((worn, why)),
               lambda k, p: events.append((k, p)), config=c)
    return w, pol, calls, changes, events


def _feed(w, counts, start_ms, period_ms):
    t = start_ms
    for c in counts:
        w.on_prox(c, ticks_add(T0, t))
        t += period_ms
    return t


def test_put_on_after_the_debounce_and_power_back_to_normal():
    w, pol, calls, changes, events = _det()
    _feed(w, [2000] * 7, 0, 250)  # near for 1.5 s
    assert changes == [(True, W.PUT_ON)] and w.worn()
    assert calls == [("mic", True), ("mute", False), ("rate", "normal"), ("link", "normal")]
    assert events == [("wear", W.PUT_ON)] and not pol.saving


def test_near_for_less_than_the_debounce_is_not_worn():
    w, _, _, changes, _ = _det()
    _feed(w, [2000] * 5 + [500] * 3, 0, 250)  # 1 s near, then far
    assert changes == [] and w.state == W.UNKNOWN


def test_hysteresis_band_keeps_the_last_side():
    w, _, _, changes, _ = _det()
    t = _feed(w, [2000] * 7, 0, 250)
    # readings wobble inside the band (a loose fit): still worn, never counted as far
    t = _feed(w, [1500, 1250, 1700, 1300] * 10, t, 250)
    assert changes == [(True, W.PUT_ON)]
    # a single far reading then back in the band: far only counts while it lasts ...
    t = _feed(w, [1000] + [1500] * 30, t, 250)  # ... and the band keeps "far" (7.75 s)
    assert changes == [(True, W.PUT_ON), (False, W.TAKEN_OFF)], changes


def test_taken_off_only_after_far_for_take_off_ms_and_policy_saves_power():
    w, pol, calls, changes, _ = _det()
    t = _feed(w, [2000] * 7, 0, 250)
    del calls[:]
    t = _feed(w, [300] * 16, t, 250)  # far for 3.75 s: pushed up onto the head, still worn
    t = _feed(w, [2000] * 4, t, 250)
    assert changes == [(True, W.PUT_ON)]
    t = _feed(w, [300] * 21, t, 250)  # far for 5 s
    assert changes[-1] == (False, W.TAKEN_OFF) and w.state == W.OFF and pol.saving
    assert calls == [("mic", False), ("mute", True), ("rate", "low"), ("link", "relaxed")]


def test_tick_decides_without_new_readings():
    w, _, _, changes, _ = _det()
    w.on_prox(2500, T0)
    w.tick(ticks_add(T0, 1400))
    assert changes == []
    w.tick(ticks_add(T0, 1500))
    assert changes == [(True, W.PUT_ON)]


def test_a_sensor_fault_falls_back_to_worn_and_readings_recover():
    w, pol, calls, changes, events = _det()
    t = _feed(w, [2000] * 7, 0, 250)
    t = _feed(w, [100] * 21, t, 250)
    assert w.state == W.OFF and pol.saving
    assert not w.on_fault("imu", "x")  # not ours
    assert w.on_fault("prox", "I2C: no ack")
    assert changes[-1] == (True, W.SENSOR_FAULT) and w.worn() and w.degraded
    assert not pol.saving and events[-1] == ("wear", W.SENSOR_FAULT)
    w.tick(ticks_add(T0, t + 60000))  # no readings: stays in the safe state
    assert w.worn() and w.degraded
    t = _feed(w, [100] * 22, t + 60000, 250)  # the sensor is back and says: far
    assert not w.degraded and w.state == W.OFF and changes[-1] == (False, W.TAKEN_OFF)


def test_a_fault_while_worn_keeps_it_worn_and_tells_the_host():
    w, _, _, changes, events = _det()
    _feed(w, [2000] * 7, 0, 250)
    w.on_fault("prox", "dead")
    assert changes == [(True, W.PUT_ON)] and events[-1] == ("wear", W.SENSOR_FAULT)
    assert w.worn() and w.degraded


def test_silence_longer_than_stale_ms_is_a_fault():
    w, _, _, changes, _ = _det(stale_ms=3000)
    t = _feed(w, [2000] * 7, 0, 250)
    t = _feed(w, [100] * 21, t, 250)
    assert w.state == W.OFF
    w.tick(ticks_add(T0, t + 2500))
    assert w.state == W.OFF
    w.tick(ticks_add(T0, t + 3500))
    assert w.worn() and w.degraded and changes[-1] == (True, W.SENSOR_FAULT)


def test_a_failing_events_channel_does_not_lose_the_change():
    changes = []

    def full(kind, payload):
        raise OSError("events channel full")
    w = W.Wear(None, lambda worn, why: changes.append(worn), full)
    _feed(w, [2000] * 7, 0, 250)
    w.on_fault("prox", "dead")
    assert changes == [True] and w.worn() and w.degraded


def test_bad_thresholds_are_refused():
    c = dict(W.WEAR)
    c["off_count"] = c["on_count"]
    e = raises(ValueError, W.Wear, config=c)
    assert "off_count" in str(e)


def test_a_policy_with_missing_knobs():
    p = W.PowerPolicy()
    p.apply(True)
    assert p.saving


for _name in list(globals()):
    if _name.startswith("test_"):
        HEAP_BUDGET[_name] = 8192
