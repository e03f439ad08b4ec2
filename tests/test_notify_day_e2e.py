"""The day with the glasses (tests/fw/day_scenario.py) end to end: the real firmware on
the simulated board, the real BLE link (bumble on both sides), the phone's notification
feature (host_tools/notify/host.py), in virtual time.

The person acts on the simulated parts (the proximity sensor sees the head, the touch
pad a finger, the gyro a nod), the phone sends notifications and rules, the wearer walks
out of range for the link drop, the board resets, the proximity sensor stops answering.
Checked: what was said (the voice stand-in, and what reached the phone's TTS), what the
LED and the haptic motor did, what the phone received (each reply and action exactly
once, the events), and the power policy.

Long idle stretches are shortened: where the timeline has more than MAX_GAP_S of nothing,
the rig waits MAX_GAP_S of simulated time and the phone's clock jumps forward, telling the
glasses (TIME) as a phone does after a time-zone change; the battery follows the day's
curve meanwhile. Every event therefore happens at its local time of day (quiet hours,
summaries) while the run stays short.
"""
import asyncio

import pytest
from e2e_util import Rig, haptic_probe, led_probe

from firmware.notify import model as M
from sim.world import HARD_RESET
from tests.fw import day_scenario as D

MAX_GAP_S = 60
DAY0 = 1767250800  # 2026-01-01 07:00:00 UTC, the day's start (the notifications' ts)


def _secs(hms):
    h, m, s = hms
    return (h - D.START_H) * 3600 + m * 60 + s


def _soc(local_s):
    hi, lo = D.BATTERY
    return hi - (hi - lo) * local_s / _secs(D.END)


class Day:
    def __init__(self):
        self.base = (0.0, 0.0)  # (local seconds since 07:00, simulated seconds) at a jump
        # the day's expected speech is the presenter's, without the first-boot tap hints
        self.rig = Rig(seed=21, local_time=self.local_time, worn=False,
                       config={"notify_tap_hints": 0})
        self.w = self.rig.world
        self.w.battery.set_soc(D.BATTERY[0])
        self.led = led_probe(self.rig)
        self.motor = haptic_probe(self.rig)
        self.said_at = 0  # index into the voice record at the last check
        self.checked = []
        self.marks = {}

    # ---- the phone's clock ----------------------------------------------------------------
    def local_now(self):
        lb, vb = self.base
        return lb + (self.w.now_s() - vb)

    def local_time(self):
        return DAY0 + int(self.local_now()), 0

    async def until_local(self, t_local):
        gap = t_local - self.local_now()
        if gap <= MAX_GAP_S:
            if gap > 0:
                await asyncio.sleep(gap)
            return
        # shorten: MAX_GAP_S - 2 s of simulated time, the battery following the day, then
        # the phone's clock jumps to 2 s before the event and tells the glasses
        s0 = _soc(self.local_now())
        s1 = _soc(t_local - 2)
        n = MAX_GAP_S - 2
        for i in range(1, n + 1):
            await asyncio.sleep(1)
            self.w.battery.set_soc(s0 + (s1 - s0) * i / n)
        self.base = (t_local - 2, self.w.now_s())
        self.rig.notify.send_time()
        await asyncio.sleep(2)

    # ---- the person and the phone -----------------------------------------------------------
    def touch(self, *holds_s, gap_s=0.15):
        pad = self.rig.part("touch0")
        t = 0.0
        for h in holds_s:
            self.w.call_later_us(int(t * 1e6), pad.touch, h)
            t += h + gap_s

    def apply(self, ev):
        k = ev[0]
        r = self.rig
        w = self.w
        if k == "rules":
            r.notify.set_rules(ev[1])
        elif k == "notify":
            M.check(ev[1])  # the day's data is valid: the phone's own validation
            r.notify.client.send(ev[1])
        elif k == "put_on":
            r.part("prox").put_on()
        elif k == "take_off":
            r.part("prox").take_off()
        elif k == "tap":
            self.touch(0.15)
        elif k == "double_tap":
            self.touch(0.15, 0.15)
        elif k == "long_press":
            self.touch(1.2)
        elif k == "nod":
            r.part("imu").nod(cycles=2, freq_hz=2.0, amp_deg=15.0)
        elif k == "shake":
            r.part("imu").shake(cycles=2, freq_hz=2.5, amp_deg=25.0)
        elif k == "walk":
            pass  # the gyro is off then (nothing asks): walking is the unit tests' job
        elif k == "link":
            if not ev[1]:
                i = next(j for j, e in enumerate(D.TIMELINE) if e[1] == ("link", True))
                away = min(_secs(D.TIMELINE[i][0]) - self.local_now(), MAX_GAP_S) - 1
                w.radio.walk_away(away)  # out of range until just before "link up"
        elif k == "reset":
            self.marks["reset_boots"] = r.glasses.boots
            w.request_reset(HARD_RESET, "the day's reset")
        elif k == "prox_dies":
            r.part("prox").disconnect()
        elif k == "check":
            self.check(ev[1])
        else:
            raise ValueError("unknown timeline event %r" % (k,))

    async def run(self):
        await self.rig.start()
        for hms, ev in D.TIMELINE:
            await self.until_local(_secs(hms))
            if ev[0] == "check":
                await asyncio.sleep(0)
            self.apply(ev)
        await asyncio.sleep(10)  # the last acks and replies

    # ---- checks -------------------------------------------------------------------------------
    def said(self):
        said = self.rig.voice.said[self.said_at:]
        self.said_at = len(self.rig.voice.said)
        return said

    def check(self, name):
        r = self.rig
        app = r.app
        said = self.said()
        notes = r.notify
        gestures = [p[0] for p in notes.events_of("gesture")]
        t = self.w.now_s()
        if name == "night":
            low = [s for s in said if s.startswith("Battery low")]
            assert len(low) == 1 and 17 <= int(low[0].split()[2]) <= 20, said
            said = [s for s in said if not s.startswith("Battery low")]
            expected = [s for s in D.SAID[name] if not s.startswith("Battery low")]
        else:
            expected = D.SAID[name]
        assert said == expected, (name, said)
        if name == "table":
            assert app.notify.p.led_now == "waiting" and not app.senses.wear.worn()
            blinks = self.led.pulses(t - 9, t)  # blue blip 80 ms every 3 s
            assert len(blinks) == 3 and all(abs(b[1] - 0.08) < 0.002 for b in blinks), blinks
            assert [(x.id, x.outcome) for x in notes.replies] == [
                ("rules", "accepted"), ("n1", "accepted"), ("n2", "accepted")]
        elif name == "morning_summary":
            assert app.notify.p.led_now == "off" and "put_on" in notes.events_of("wear")
            assert not [b for b in self.led.pulses(t - 10, t) if b[1] > 0.05]  # heartbeat only
        elif name == "after_nod":
            got = [(a.kind, a.notification_id, a.value) for a in notes.actions]
            assert got == D.ACTIONS[:3], got
            assert gestures == ["tap", "double_tap", "nod"], gestures
            assert r.voice.chimes.count("confirm") == 2
            assert app.senses.gyro_hz == 0  # the question was answered: gyro off again
        elif name == "saving":
            s = app.senses
            assert s.policy.saving and s.rate == "low" and r.voice.mutes[-1] is True
            sensors = app.services["sensors"]
            assert sensors.period_ms("prox") == 2000 and sensors.period_ms("touch") == 300
            assert app.link.session.keepalive_ms == 2000
            assert notes.events_of("link")[-1] == "relaxed"
        elif name == "led_urgent":
            assert app.notify.p.led_now == "waiting_urgent"
            blinks = self.led.pulses(t - 10, t)  # orange 150 ms every second
            assert len(blinks) >= 9 and all(abs(b[1] - 0.15) < 0.002 for b in blinks), blinks
        elif name == "lunch_summary":
            assert notes.client.outcome("n4").outcome == "accepted"
            assert not app.senses.policy.saving and r.voice.mutes[-1] is False
            assert r.phone.connects >= 2  # the phone came back after the walk
        elif name == "after_reset":
            got = [(a.kind, a.notification_id, a.value) for a in notes.actions]
            assert got == D.ACTIONS, got
            assert r.glasses.boots == self.marks["reset_boots"] + 1
            assert app.senses.wear.worn() and not app.senses.wear.degraded
        elif name == "sensor_dead":
            s = app.senses
            assert s.wear.worn() and s.wear.degraded and not s.policy.saving
            assert notes.events_of("wear")[-1] == "sensor_fault"
            assert notes.events_of("fault")[-1] == ["prox", "I/O error ENODEV"]
            assert app.notify.p.led_now == "off"
        elif name == "night":
            assert r.voice.chimes.count("battery_low") == 1
            assert [p[0] for p in notes.events_of("battery")] == ["battery_low"]
            buzz = [p[1] for p in self.motor.pulses(t - 62, t)]  # the urgent pattern
            # three 120 ms pulses (to the scheduler's 1 ms tick)
            assert len(buzz) == 3 and all(abs(b - 0.12) <= 0.002 for b in buzz), buzz
        self.checked.append(name)


@pytest.fixture
def day():
    d = Day()
    yield d
    d.rig.close()


def test_the_day_end_to_end(day):
    r = day.rig
    r.run(day.run())
    assert day.checked == [ev[1] for _, ev in D.TIMELINE if ev[0] == "check"]
    notes = r.notify
    # every notification (and the rules): exactly one reply, as the day expects
    replies = {}
    for x in notes.replies:
        replies.setdefault(x.id, []).append(x.outcome)
    assert replies == {k: [v] for k, v in D.REPLIES.items()}, replies
    # each action once at the phone, and all acknowledged on the glasses
    got = [(a.kind, a.notification_id, a.value) for a in notes.actions]
    assert got == D.ACTIONS
    app = r.app
    assert app.notify.svc.outbox.pending() == []
    assert app.notify.svc.center.ids() == D.QUEUE
    # nothing was said twice all day, and what was said reached the phone's TTS
    headers = [t for t in r.voice.said if ": " in t]
    assert len(headers) == len(set(headers)) == 6, headers
    assert [t for t in r.spoken if ": " in t] == headers
    # the flash holds the queue: one file per notification, the actions all gone
    names = app.board.store.names()
    assert sorted(n for n in names if n.startswith("note")) == \
        sorted("note%d" % e.seq for e in app.notify.svc.center.entries)
    assert not [n for n in names if n.startswith("act")]
    # the speaker heard the chimes (through the voice stand-in's Playback)
    assert r.part("speaker").frames_heard > 16000
