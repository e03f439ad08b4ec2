"""Helpers for the end-to-end tests over the rig (sim/linked.py): glasses with the voice
stand-in (tests/voice_standin.py), a phone whose TTS records what it was asked to speak,
probes on the simulated outputs, waiting in virtual time."""
import asyncio

import voice_standin
from sim.linked import Linked


class Rig:
    """A Linked rig with the voice stand-in and a recording TTS on the phone."""

    def __init__(self, seed, **kw):
        self.linked = Linked(seed=seed, **kw)
        self.world = self.linked.world
        self.voice = voice_standin.install(self.linked.glasses)
        self.spoken = []  # texts the phone's TTS was asked for

    @property
    def glasses(self):
        return self.linked.glasses

    @property
    def app(self):
        return self.linked.glasses.app

    @property
    def phone(self):
        return self.linked.phone

    @property
    def notify(self):
        return self.linked.notify

    async def start(self, wait_s=30):
        await self.linked.start()
        self.phone.rpc.register("tts", self._tts)
        await self.phone.wait_open(wait_s)

    async def _tts(self, args):
        """Records the text; streams no audio (the glasses' say() ends at once)."""
        self.spoken.append(args["text"])
        return
        yield

    def run(self, coro):
        return self.linked.run(coro)

    def close(self):
        self.linked.close()

    def part(self, name):
        return self.world.part(name)

    def now(self):
        return self.world.now_s()

    async def until(self, cond, timeout_s=10.0, step_s=0.02):
        t_end = self.now() + timeout_s
        while not cond():
            if self.now() >= t_end:
                return False
            await asyncio.sleep(step_s)
        return True

    def events(self, topic):
        return self.notify.events_of(topic)


class PinProbe:
    """Every level change of a GPIO as (seconds, level): what an LED or motor did."""

    def __init__(self, world, gpio, active_low=False):
        self.world = world
        self.active_low = active_low
        self.changes = []
        world.observe_pin(gpio, self._seen)

    def _seen(self, level):
        on = bool(level) != self.active_low
        if not self.changes or self.changes[-1][1] != on:
            self.changes.append((self.world.now_s(), on))

    def pulses(self, t0, t1):
        """[(start, length)] of the on-periods that started in [t0, t1)."""
        out = []
        start = None
        for t, on in self.changes:
            if on:
                start = t
            elif start is not None:
                if t0 <= start < t1:
                    out.append((start, round(t - start, 3)))
                start = None
        return out


def led_probe(rig):
    spec = rig.world.data["parts"]["led"]
    return PinProbe(rig.world, spec["pin"], spec.get("active_low", False))


class PwmProbe(PinProbe):
    """The same for a PWM output (the haptic motor): on while the duty is above 0."""

    def __init__(self, world, gpio):
        self.world = world
        self.active_low = False
        self.changes = []
        world.observe_pwm(gpio, lambda freq, duty: self._seen(bool(duty)))


def haptic_probe(rig):
    return PwmProbe(rig.world, rig.world.data["parts"]["haptic"]["pin"])


class BoardData:
    """A variant of a board's DATA for one test (a part on a pin its build cannot use,
    a capability more): the board file's own build() then runs against it."""

    def __init__(self, board="xiao_esp32s3_sense", parts=None, caps=()):
        from sim import boards
        self.mod = boards.load(board)
        self.saved = self.mod.DATA
        d = dict(self.saved)
        p = dict(d["parts"])
        p.update(parts or {})
        d["parts"] = p
        d["caps"] = tuple(d["caps"]) + tuple(caps)
        self.data = d

    def __enter__(self):
        self.mod.DATA = self.data
        return self.data

    def __exit__(self, *exc):
        self.mod.DATA = self.saved
