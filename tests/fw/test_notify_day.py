# A day with the glasses in virtual time (tests/fw/day_scenario.py): notifications while
# worn, while not worn, during quiet hours, an urgent one during quiet hours, walking,
# gestures, a link drop, a reset mid-queue, the proximity sensor dying. The firmware
# services are wired here exactly as the app wires them (the sensor callables, the power
# policy, the presenter's four callables, the service's send); the phone is a small
# in-process host that validates with the shared model, deduplicates actions by id and
# acknowledges them two seconds later.
# CPython and MicroPython. Heap budget: 48 KB per step (the day runs in 10-minute steps).
import day_scenario as D
from fwtest import virtual_scheduler

from firmware.notify import model as M
from firmware.notify import wire as W
from firmware.notify.presentation import Presenter
from firmware.notify.core import NotifyService
from firmware.runtime import sched as S
from firmware.runtime.sync import Event
from firmware.sense.battery import Battery
from firmware.sense.gestures import Gestures
from firmware.sense.wear import PowerPolicy, Wear
from notify_helpers import fresh_store
from traces import Trace, oscillation, walking

HEAP_BUDGET = {"test_a_day_with_the_glasses": 49152}

NEAR = 2200  # proximity counts on the head / on the table
FAR = 400
RATE_MS = {"normal": 5000, "low": 30000}
GAUGE_MS = 600000
ACK_DELAY_MS = 2000


def _at(hms):
    h, m, s = hms
    return ((h - D.START_H) * 3600 + m * 60 + s) * 1000


class Phone:
    """The host: forwards notifications (queued while the link is down), collects replies,
    actions (deduplicated by action id) and events, acknowledges actions."""

    def __init__(self, world):
        self.w = world
        self.up = True
        self.outbox = []
        self.replies = {}
        self.actions = []
        self.aids = []
        self.copies = 0
        self.acks_due = []
        self.events = []

    def forward(self, fields):
        note, cuts = M.check(fields)  # the shared validation: bad input stops here
        assert cuts == []
        self.outbox.append(W.notify(note.to_wire()))
        self.flush()

    def flush(self):
        while self.up and self.outbox:
            self.w.glasses.svc.on_host(self.outbox.pop(0))

    def receive(self, m):  # the glasses' send()
        if not self.up:
            raise OSError("link down")
        t = m[W.T]
        if t == W.T_REPLY:
            self.replies.setdefault(m[W.R_ID], []).append(m[W.R_OUTCOME])
        elif t == W.T_ACTION:
            aid = m[W.A_AID]
            if aid in self.aids:
                self.copies += 1
            else:
                self.aids.append(aid)
                self.actions.append((m[W.A_KIND], m[W.A_NID], m[W.A_VALUE]))
            self.acks_due.append(aid)

    def event(self, kind, payload):  # the events channel (gestures, wear, battery)
        if self.up:
            self.events.append((kind, payload))

    async def ack_task(self):
        while True:
            await S.sleep_ms(ACK_DELAY_MS)
            if self.up and self.acks_due:
                due = self.acks_due
                self.acks_due = []
                self.w.glasses.svc.on_host(W.ack(due))


class Glasses:
    """One boot of the glasses: the services built from the same flash store."""

    def __init__(self, world):
        self.w = world
        w = world
        self.p = Presenter(led=w.led, haptic=w.haptic, chime=w.chime, speak=w.speak)
        self.svc = NotifyService(w.store, self.p, w.phone.receive, local_minute=w.minute)
        self.rate = "normal"
        self.policy = PowerPolicy(mic=w.knob("mic"), audio_mute=w.knob("mute"),
                                  sensor_rate=self.set_rate, link=w.knob("link"))
        self.wear = Wear(self.policy, self.svc.on_wear, w.phone.event)
        self.gest = Gestures(w.phone.event, self.svc.on_gesture, pads=(0,))
        self.bat = Battery(notify_level=w.levels.append, chime=w.chime, speak=w.speak,
                           emit=w.phone.event)
        self.wake = Event()
        s = w.sched
        self.tasks = [s.spawn(self.prox_task, prio=S.PRIO_SENSOR),
                      s.spawn(self.sense_task, prio=S.PRIO_SENSOR),
                      s.spawn(self.gauge_task)]
        self.svc.start()

    def set_rate(self, mode):
        self.rate = mode
        self.w.knob("rate")(mode)

    def shutdown(self):
        for t in self.tasks:
            t.cancel()

    async def prox_task(self):
        w = self.w
        while not w.prox_dead:
            self.wear.on_prox(NEAR if w.on_head else FAR, w.clock.ticks_ms())
            await S.sleep_ms(RATE_MS[self.rate])

    async def sense_task(self):
        c = self.w.clock
        while True:
            now = c.ticks_ms()
            self.gest.tick(now)
            self.wear.tick(now)
            if self.gest.pending():
                await S.sleep_ms(50)
            else:
                await self.wake.wait(5000)
                self.wake.clear()

    async def gauge_task(self):
        w = self.w
        while True:
            self.bat.on_battery(w.soc(), 3.7, False, w.clock.ticks_ms())
            await S.sleep_ms(GAUGE_MS)


class World:
    def __init__(self):
        self.sched = virtual_scheduler(seed=5)
        self.clock = self.sched.clock
        self.store = fresh_store()
        self.on_head = False
        self.prox_dead = False
        self.said = []
        self.all_said = []
        self.chimes = []
        self.led_now = "off"
        self.levels = []
        self.knobs = []
        self.phone = Phone(self)
        self.glasses = Glasses(self)
        self.sched.spawn(self.phone.ack_task, prio=S.PRIO_LINK)

    def minute(self):
        return (D.START_H * 60 + self.clock.elapsed_ms() // 60000) % 1440

    def soc(self):
        hi, lo = D.BATTERY
        return hi - (hi - lo) * self.clock.elapsed_ms() / _at(D.END)

    def led(self, name):
        self.led_now = name

    def haptic(self, name):
        pass

    def chime(self, name):
        self.chimes.append(name)

    def speak(self, text):
        self.said.append(text)
        self.all_said.append(text)

    def knob(self, name):
        return lambda v: self.knobs.append((name, v))

    # ---- the person and the phone -----------------------------------------------------
    async def touch(self, holds):
        g = self.glasses
        for i in range(len(holds)):
            g.gest.on_touch(0, True, self.clock.ticks_ms())
            g.wake.set()
            await S.sleep_ms(holds[i])
            g.gest.on_touch(0, False, self.clock.ticks_ms())
            if i + 1 < len(holds):
                await S.sleep_ms(150)

    async def gyro(self, trace):
        rel = 0
        rnd = trace.seed
        out = trace.out
        while rel < trace.dur:
            rnd = trace.sample(rel, rnd)
            self.glasses.gest.on_gyro(out[0], out[1], out[2], self.clock.ticks_ms())
            await S.sleep_ms(trace.dt)
            rel += trace.dt

    def apply(self, ev):
        k = ev[0]
        s = self.sched
        if k == "rules":
            self.glasses.svc.on_host(W.rules(ev[1]))
        elif k == "notify":
            self.phone.forward(ev[1])
        elif k == "put_on":
            self.on_head = True
        elif k == "take_off":
            self.on_head = False
        elif k == "tap":
            s.spawn(self.touch, (80,))
        elif k == "double_tap":
            s.spawn(self.touch, (80, 80))
        elif k == "long_press":
            s.spawn(self.touch, (1200,))
        elif k == "nod":
            s.spawn(self.gyro, Trace(oscillation(0, 130, 2500, 4, 100), 1500))
        elif k == "shake":
            s.spawn(self.gyro, Trace(oscillation(2, 180, 3500, 5, 100), 1500))
        elif k == "walk":
            s.spawn(self.gyro, Trace(walking(ev[1]), ev[1]))
        elif k == "link":
            self.phone.up = ev[1]
            if ev[1]:
                self.phone.flush()
                self.glasses.svc.on_link(True)
        elif k == "reset":
            self.glasses.shutdown()
            self.glasses = Glasses(self)
        elif k == "prox_dies":
            self.prox_dead = True
            self.glasses.wear.on_fault("prox", ev[1])
        elif k == "check":
            self.check(ev[1])
        else:
            raise ValueError("unknown timeline event %r" % (k,))

    async def driver(self):
        for hms, ev in D.TIMELINE:
            await S.sleep_ms(_at(hms) - self.clock.elapsed_ms())
            self.apply(ev)

    # ---- checks -------------------------------------------------------------------------
    def check(self, name):
        said = self.said
        self.said = []
        assert said == D.SAID[name], (name, said)
        g = self.glasses
        ph = self.phone
        if name == "table":
            assert self.led_now == "waiting" and not g.wear.worn()
            assert ph.replies == {"rules": ["accepted"], "n1": ["accepted"],
                                  "n2": ["accepted"]}, ph.replies
        elif name == "morning_summary":
            assert self.led_now == "off" and ("wear", "put_on") in ph.events
        elif name == "after_nod":
            assert ph.actions == D.ACTIONS[:3], ph.actions
            gestures = [e[0] for e in ph.events if e[0] != "wear"]
            assert gestures == ["tap", "double_tap", "nod"], gestures  # walking: nothing
            assert self.chimes.count("confirm") == 2
        elif name == "saving":
            assert g.policy.saving and g.rate == "low"
            assert self.knobs[-4:] == [("mic", False), ("mute", True), ("rate", "low"),
                                       ("link", "relaxed")], self.knobs
        elif name == "led_urgent":
            assert self.led_now == "waiting_urgent"
        elif name == "lunch_summary":
            assert ph.replies["n4"] == ["accepted"] and not g.policy.saving
        elif name == "after_reset":
            assert ph.actions == D.ACTIONS and ph.copies >= 1, (ph.actions, ph.copies)
            assert g.wear.worn() and not g.wear.degraded
        elif name == "sensor_dead":
            assert g.wear.worn() and g.wear.degraded and not g.policy.saving
            assert ph.events[-1] == ("wear", "sensor_fault") and self.led_now == "off"
        elif name == "night":
            assert self.chimes.count("battery_low") == 1
        self.checked.append(name)


def test_a_day_with_the_glasses():
    w = World()
    w.checked = []
    w.sched.spawn(w.driver, prio=S.PRIO_BACKGROUND)
    end = _at(D.END)
    while w.clock.elapsed_ms() < end:
        w.sched.run(until_ms=min(600000, end - w.clock.elapsed_ms()))
        for t in w.sched.tasks:  # a failed check (or bug) inside a task stops the day here
            assert t.error is None, (t.name, w.minute(), t.error)
        yield
    assert w.checked == [ev[1] for _, ev in D.TIMELINE if ev[0] == "check"], w.checked
    ph = w.phone
    assert ph.replies == dict((k, [v]) for k, v in D.REPLIES.items()), ph.replies
    assert ph.actions == D.ACTIONS and ph.copies >= 1
    svc = w.glasses.svc
    assert svc.outbox.pending() == []  # every action acknowledged
    assert svc.center.ids() == D.QUEUE, svc.center.ids()
    # nothing was said twice all day: every notification header at most once
    headers = [t for t in w.all_said if ": " in t]
    assert len(headers) == len(set(headers))
    # the Battery service got every whole percent going down, each once, except that the
    # boot after the reset notified its first reading again
    lv = w.levels
    repeats = [i for i in range(1, len(lv)) if lv[i] == lv[i - 1]]
    assert len(repeats) == 1, lv
    lv = lv[:repeats[0]] + lv[repeats[0] + 1:]
    assert lv == list(range(D.BATTERY[0], lv[-1] - 1, -1)), lv
    assert w.levels[-1] <= 13 and not w.glasses.bat.ota_allowed()
