# The world below the HAL line for the whole-firmware boot (tests/fwboot.py): virtual
# time and the things in it that fire on their own (the microphone's frames, the
# speaker draining, the radio's connection events, the scenario's steps). machine.py,
# time.py and bluetooth.py beside this file are MicroPython's modules of those names cut
# to what the firmware uses, all over the one World W. Plain MicroPython: it runs on the
# unix port and the WebAssembly build, in the same heap as the firmware it serves.
#
# Time moves only in idle(ms) (time.sleep_ms, machine.lightsleep, machine.idle): to the
# next event of a device, or the end of the wait; a device that ran a firmware callback
# (an IRQ) ends the wait, as an interrupt ends a sleep on a board.
_MAX_STEPS = 100000  # events fired in one idle() at the most
_MS = 1000


class WorldError(Exception):
    """Something the firmware did that a board would not survive (e.g. the watchdog
    starved), or a wait nothing in the world can end."""


class Every:
    """fn() every period_us from first_us on; fn returns True if it ran an IRQ."""

    def __init__(self, period_us, fn, first_us=0):
        self.period_us = period_us
        self.fn = fn
        self.at = first_us

    def next_us(self):
        return self.at

    def fire(self, now):
        self.at = now + self.period_us
        return self.fn()


class Script:
    """One-shot steps (at_us, fn), in time order; fn returns True if it ran an IRQ."""

    def __init__(self, steps):
        self.steps = sorted(steps, key=lambda s: s[0])
        self.i = 0

    def next_us(self):
        return self.steps[self.i][0] if self.i < len(self.steps) else None

    def fire(self, now):
        fired = False
        steps = self.steps
        while self.i < len(steps) and steps[self.i][0] <= now:
            fn = steps[self.i][1]
            self.i += 1
            fired = fn() or fired
        return fired


class World:
    def __init__(self):
        self.us = 0  # virtual microseconds since power-on (below 2**30 for 17 minutes)
        self.devices = []  # next_us() -> int | None; fire(now_us) -> an IRQ ran
        self.sleeps = 0  # machine.lightsleep calls
        self.waits = 0  # time.sleep_ms / machine.idle calls
        self.wdt_timeout_us = 0
        self.wdt_fed_us = 0
        self.pins = {}  # pin id -> machine.Pin
        self.parts = {}  # (i2c id, addr) -> register file (machine.Part)
        self.touch = {}  # pin id -> raw touch value
        self.ble = None  # the one bluetooth.BLE
        self.phone = None  # the phone on the radio (fwboot/phone.py)
        self.mic_source = None  # fill(buf) with the next 20 ms of sound, or None: silence
        self.speaker_frames = 0  # 20 ms frames the speaker played
        self.speaker_loud = 0  # ... of them not silent
        self.haptic_on = 0  # times the motor was switched on

    def add(self, device):
        self.devices.append(device)
        return device

    def remove(self, device):
        if device in self.devices:
            self.devices.remove(device)

    def idle(self, ms, sleeping=False):
        if sleeping:
            self.sleeps += 1
        else:
            self.waits += 1
        end = self.us + ms * _MS if ms >= 0 else -1
        for _ in range(_MAX_STEPS):
            t = end
            for d in self.devices:
                e = d.next_us()
                if e is not None and (t < 0 or e < t):
                    t = e
            if t < 0:
                raise WorldError("the firmware waits for an interrupt that nothing in the "
                                 "world will raise")
            if t > self.us:
                self.us = t
            self._check_watchdog()
            fired = False
            i = 0
            while i < len(self.devices):  # a device may add or remove devices
                d = self.devices[i]
                e = d.next_us()
                if e is not None and e <= self.us and d.fire(self.us):
                    fired = True
                i += 1
            if fired or (end >= 0 and self.us >= end):
                return
        raise WorldError("more than %d world events in one idle period" % _MAX_STEPS)

    def _check_watchdog(self):
        if self.wdt_timeout_us and self.us - self.wdt_fed_us > self.wdt_timeout_us:
            raise WorldError("the watchdog was not fed for %d ms: a board would reset"
                             % ((self.us - self.wdt_fed_us) // _MS))


W = World()
