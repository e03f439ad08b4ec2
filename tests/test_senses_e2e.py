"""Gestures end to end: a finger on the virtual touch pads, knocks through the virtual
LSM6DSOX's tap engine and its INT1 pin, nods and shakes seen by the virtual gyro; each
reaches the phone as an EVENT over the BLE link and does its local action (reading,
replying, dismissing, answering, talking, forgetting the phone)."""
import asyncio

import pytest
from e2e_util import Rig

from firmware.sense.service import HEAD_HZ


@pytest.fixture
def rig():
    r = Rig(seed=31)
    yield r
    r.close()


def _gestures(r):
    return r.events("gesture")


def _actions(r):
    return [(a.kind, a.notification_id, a.value) for a in r.notify.actions]


async def _start(r):
    await r.start()
    await r.until(lambda: r.app.senses.wear.worn(), 5)


async def _send(r, nid, **kw):
    f = dict(app="Chat", title="T-" + nid, body="body " + nid, category="message", id=nid)
    f.update(kw)
    reply = await r.notify.send(**f)
    assert reply.outcome == "accepted", reply
    await asyncio.sleep(0.5)


def test_touch_gestures_reach_the_phone_and_act(rig):
    r = rig
    front, back = r.part("touch0"), r.part("touch1")

    async def scenario():
        await _start(r)
        front.touch(0.15)  # nothing waits: a tap talks
        await asyncio.sleep(1.5)
        assert _gestures(r) == [["tap", 0]] and r.voice.talks == 1
        await _send(r, "a1", actions=["Reply yes", "Call"])
        await _send(r, "a2", priority="low")
        front.touch(0.15)  # unread ones wait: the tap reads the current one (a1)
        await asyncio.sleep(1.5)
        assert r.voice.talks == 1 and r.voice.said[-2:] == ["Chat: T-a1", "body a1"]
        front.touch(0.15)
        r.world.call_later_us(300000, front.touch, 0.15)  # a double tap: a1's first action
        await asyncio.sleep(1.5)
        await _send(r, "a3", priority="low")
        back.touch(0.25)  # a swipe towards the front: from a2 to the next one (a3)
        r.world.call_later_us(150000, front.touch, 0.25)
        await asyncio.sleep(1.5)
        assert r.voice.said[-1] == "Chat: T-a3"
        front.touch(1.2)  # long press: dismiss all (on the back pad it takes a photo)
        await asyncio.sleep(2)
        return r.app.notify.svc.center.ids()

    left = r.run(scenario())
    assert [g[0] for g in _gestures(r)] == ["tap", "tap", "double_tap", "swipe_forward",
                                            "long_press"]
    assert _gestures(r)[3] == ["swipe_forward", 0] and _gestures(r)[4] == ["long_press", 0]
    assert _actions(r) == [("read", "a1", None), ("action", "a1", "Reply yes"),
                           ("dismiss_all", None, ["a2", "a3"])]
    assert left == [] and r.voice.chimes.count("confirm") == 1
    assert r.voice.chimes.count("dismiss") == 1


def test_imu_taps_through_the_tap_engine_and_int1(rig):
    r = rig
    imu = r.part("imu")

    async def scenario():
        await _start(r)
        irqs0 = r.world.pin(imu.int1_gpio).irq_count
        imu.tap(axis="y", g=2.0)  # a single knock: talk
        await asyncio.sleep(1.5)
        assert _gestures(r) == [["tap", "imu"]] and r.voice.talks == 1
        await _send(r, "b1", actions=["Snooze"])
        imu.double_tap(gap_ms=200, axis="y", g=2.0)  # double: b1's first action, no talk
        await asyncio.sleep(1.5)
        return r.world.pin(imu.int1_gpio).irq_count - irqs0

    irqs = r.run(scenario())
    assert irqs == 3  # one INT1 edge per knock report: single, single + double
    assert _gestures(r) == [["tap", "imu"], ["double_tap", "imu"]]
    assert r.voice.talks == 1 and _actions(r) == [("action", "b1", "Snooze")]
    assert imu.taps_recognised == 3


def test_nod_and_shake_from_the_gyro_only_while_a_question_waits(rig):
    r = rig
    imu = r.part("imu")

    async def scenario():
        await _start(r)
        imu.nod()  # nothing asks: the gyro is off, the nod goes unseen
        await asyncio.sleep(2)
        off = (imu.gyro_odr(), list(_gestures(r)))
        await _send(r, "q1", category="calendar", asks="Accept the meeting?")
        on = (imu.gyro_odr(), r.app.senses.gyro_hz)
        imu.nod(cycles=2, freq_hz=2.0, amp_deg=15.0)
        await asyncio.sleep(2)
        after_nod = imu.gyro_odr()
        await _send(r, "q2", category="calendar", asks="Move it to 3 pm?")
        imu.shake(cycles=2, freq_hz=2.5, amp_deg=25.0)
        await asyncio.sleep(2)
        return off, on, after_nod, imu.gyro_odr()

    off, on, after_nod, after_shake = r.run(scenario())
    assert off == (0, [])
    assert on == (52, HEAD_HZ)  # LSM6DSOX ODR 52 Hz while the question waits
    assert after_nod == 0 and after_shake == 0  # answered: the gyro is off again
    assert _gestures(r) == [["nod", "head"], ["shake", "head"]]
    assert _actions(r) == [("answer", "q1", "yes"), ("answer", "q2", "no")]


def test_the_gyro_window_closes_and_taking_them_off_stops_it(rig):
    r = rig
    imu = r.part("imu")

    async def scenario():
        await _start(r)
        await _send(r, "q1", asks="Still there?")
        on = imu.gyro_odr()
        r.part("prox").take_off()
        await r.until(lambda: not r.app.senses.wear.worn(), 10)
        await asyncio.sleep(0.2)
        off_head = imu.gyro_odr()
        r.part("prox").put_on()
        await r.until(lambda: r.app.senses.wear.worn(), 10)
        r.part("touch0").touch(0.15)  # read it again: the window opens again ...
        await asyncio.sleep(1.5)
        again = imu.gyro_odr()
        await asyncio.sleep(125)  # ... and closes by itself after 2 minutes
        return on, off_head, again, imu.gyro_odr()

    assert r.run(scenario()) == (52, 0, 52, 0)


def test_holding_both_pads_forgets_the_phone(rig):
    r = rig
    front, back = r.part("touch0"), r.part("touch1")

    async def scenario():
        await _start(r)
        gatt = r.app.gatt
        assert gatt.bonds.count() == 1
        back.touch(6.0)
        r.world.call_later_us(100000, front.touch, 6.0)
        await asyncio.sleep(4)
        early = gatt.bonds.count()  # held 4 s: nothing yet
        await asyncio.sleep(3)
        return early, gatt.bonds.count(), gatt.disconnects

    early, bonds, drops = r.run(scenario())
    assert early == 1 and bonds == 0 and drops == 1
    assert _gestures(r)[-1] == ["forget_bonds", "pads"]  # told before the link went
    assert "both pads held: forgetting every bonded phone" in r.glasses.log_text()
