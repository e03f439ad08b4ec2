"""Parts missing at boot and parts that die mid-run, end to end: the phone hears about
each fault (an EVENT), the feature's documented fallback holds, the rest keeps working.
(Driver-level cases live in test_sim_drivers.py and test_sim_sensors.py; the wear sensor
dying mid-run is in the day, test_notify_day_e2e.py.)"""
import asyncio

from e2e_util import BoardData, Rig, haptic_probe


def _run(r, body):
    async def scenario():
        await r.start()
        return await body()
    try:
        return r.run(scenario())
    finally:
        r.close()


def _faults(r):
    return [tuple(p) for p in r.events("fault")]


def test_no_wear_sensor_at_boot_means_worn_and_notifications_are_presented():
    r = Rig(seed=61, skip=("prox",))

    async def body():
        reply = await r.notify.send(app="Chat", title="Ana", id="p1")
        await asyncio.sleep(0.5)
        return reply

    reply = _run(r, body)
    assert reply.outcome == "accepted"
    w = r.app.senses.wear
    assert w.worn() and w.degraded and not r.app.senses.policy.saving
    assert _faults(r)[0][0] == "prox" and "absent at boot" in _faults(r)[0][1]
    assert "sensor_fault" in r.events("wear")  # queued at boot, told on connect
    assert r.voice.said == ["Chat: Ana"]  # presented, and no "you have" summary


def test_no_fuel_gauge_at_boot_refuses_updates_with_the_reason():
    r = Rig(seed=62, skip=("gauge",))

    async def body():
        await asyncio.sleep(1)
        return await r.phone.status()

    st = _run(r, body)
    assert st["senses"]["battery"] == -1
    assert st["senses"]["ota"].startswith("battery level unknown (fuel gauge: absent at boot:")
    assert not r.app.ota_allowed()
    assert r.events("battery")[0][0] == "battery_unknown"
    assert ("gauge", ) == _faults(r)[0][:1]


def test_no_haptic_and_no_led_at_boot_still_present_by_voice():
    # an output that cannot be set up at boot (here: wired to GPIOs the chip lacks)
    bad = {"haptic": {"part": "erm_motor", "pin": 22, "freq": 1000},
           "led": {"part": "led", "pin": 23, "active_low": True}}
    r = Rig(seed=63, skip=("haptic", "led"), worn=False)

    async def body():
        a = await r.notify.send(app="Home", title="Door", priority="urgent", id="u1")
        r.part("prox").put_on()
        await r.until(lambda: r.app.senses.wear.worn(), 10)
        b = await r.notify.send(app="Chat", title="Ben", id="n1")
        await asyncio.sleep(0.5)
        return a, b

    with BoardData(parts=bad):  # the board's build() runs at boot, inside the run
        a, b = _run(r, body)
    assert a.outcome == b.outcome == "accepted"
    assert r.app.board.haptic is None and r.app.notify.motor is None
    assert "invalid pin" in r.app.board.missing["haptic"]
    assert r.app.notify.leds is None and r.app.notify.p.led_now == "off"
    assert r.voice.said == ["You have 1 notification, 1 urgent.", "Chat: Ben"]


def test_one_touch_pad_missing_the_other_still_taps():
    pads = ({"part": "touchpad", "pin": 15, "label": "front"},  # not a touch channel
            {"part": "touchpad", "pin": 4, "label": "back"})
    r = Rig(seed=64, skip=("touch0",))

    async def body():
        await r.until(lambda: r.app.senses.wear.worn(), 5)
        r.part("touch1").touch(0.15)
        await asyncio.sleep(1.5)
        return len(r.app.board.touch)

    with BoardData(parts={"touch": pads}):
        n = _run(r, body)
    assert n == 1 and "touch0" in r.app.board.missing
    assert r.events("gesture") == [["tap", 0]] and r.voice.talks == 1


def test_the_gauge_dies_and_comes_back():
    r = Rig(seed=65, config={"gauge_ms": 1000})

    async def body():
        await asyncio.sleep(2)
        before = r.app.ota_refusal()
        r.part("gauge").disconnect()
        await asyncio.sleep(3)
        during = r.app.ota_refusal()
        r.part("gauge").reconnect()
        await asyncio.sleep(20)
        return before, during, r.app.ota_refusal()

    before, during, after = _run(r, body)
    assert before is None and after is None
    assert during == "battery level unknown (fuel gauge: I/O error ENODEV)"
    assert _faults(r) == [("gauge", "I/O error ENODEV"), ("gauge", None)]


def test_the_imu_dies_while_a_question_waits_and_the_answer_still_comes():
    r = Rig(seed=66)
    motor = haptic_probe(r)

    async def body():
        await r.until(lambda: r.app.senses.wear.worn(), 5)
        reply = await r.notify.send(app="Cal", title="Review", asks="Accept?", id="q1")
        imu = r.part("imu")
        imu.disconnect()
        await asyncio.sleep(2)
        dead = r.app.services["sensors"].status["imu"]
        imu.reconnect()  # power-cycled: its registers are back to reset values
        await asyncio.sleep(3)  # the service's retry sets the part up again, gyro included
        back = imu.gyro_odr()
        imu.nod()
        await asyncio.sleep(2)
        return reply, dead, back

    reply, dead, back = _run(r, body)
    assert reply.outcome == "accepted" and dead == "faulty" and back == 52
    assert _faults(r) == [("imu", "I/O error ENODEV"), ("imu", None)]
    assert [(a.kind, a.value) for a in r.notify.actions] == [("answer", "yes")]
    assert len(motor.pulses(0, 1e9)) == 2  # q1's tick, the answer's confirm


def test_a_touch_channel_fails_and_comes_back():
    r = Rig(seed=67)

    async def body():
        await r.until(lambda: r.app.senses.wear.worn(), 5)
        r.part("touch1").fail()
        await asyncio.sleep(1)
        status = r.app.services["sensors"].status["touch"]
        r.part("touch0").touch(0.15)  # unseen: the touch sensing waits for recovery
        await asyncio.sleep(1.5)
        unseen = list(r.events("gesture"))
        r.part("touch1").fail(False)
        await asyncio.sleep(2)  # the retries: 0.25, 0.5, 1 s ...
        r.part("touch0").touch(0.15)
        await asyncio.sleep(1.5)
        return status, unseen

    status, unseen = _run(r, body)
    assert status == "faulty" and unseen == []
    assert _faults(r) == [("touch", "I/O error EIO"), ("touch", None)]
    assert r.events("gesture") == [["tap", 0]] and r.voice.talks == 1
