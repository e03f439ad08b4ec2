# The presentation's LED and haptic patterns (presentation.LED / HAPTIC) played on the
# board's drivers (firmware/drivers/led.py, haptic.py), one scheduler task each.
#
#   leds = LedPlayer(sched, board.led)       leds.show("waiting")       # until changed
#   motor = HapticPlayer(sched, board.haptic) motor.play("urgent")      # once
#   sched.spawn(leds.run) ; sched.spawn(motor.run)
#
# A haptic pattern starts in play() itself (the motor is on before play() returns: no
# scheduling delay between a notification and the buzz); the task times the rest.
# The board's LED is one colour: the patterns' rgb is not shown, their timing is.
#
# The LED has two users: these patterns and the app's heartbeat blink. `leds.shared` has
# the Led API (on/off/value/toggle/is_on) for the heartbeat and passes its calls through
# only while no pattern shows, so a pattern is never cut by a heartbeat blink.
from micropython import const

from firmware.notify.presentation import HAPTIC, LED
from firmware.runtime.sync import Flag

_STRENGTH_PCT = const(80)


class SharedLed:
    def __init__(self, player):
        self._p = player

    def value(self, on=None):
        if on is None:
            return self._p.led.is_on()
        if self._p.pattern is None:
            self._p.led.value(on)
        return None

    def on(self):
        self.value(True)

    def off(self):
        self.value(False)

    def toggle(self):
        self.value(not self._p.led.is_on())

    def is_on(self):
        return self._p.led.is_on()


class LedPlayer:
    def __init__(self, sched, led):
        self.led = led
        self.name = "off"
        self.pattern = None  # (rgb, on_ms, off_ms, repeat) while one shows
        self.flag = Flag(sched)
        self.shared = SharedLed(self)
        self.shows = 0

    def show(self, name):
        """Show a pattern from presentation.LED until another replaces it ("off")."""
        pat = LED.get(name)
        if pat is None:
            raise ValueError("no LED pattern %r (patterns: %s)" % (name, ", ".join(LED)))
        self.name = name
        self.pattern = pat if pat[1] > 0 else None
        self.shows += 1
        self.flag.set()

    async def run(self):
        led = self.led
        flag = self.flag
        while True:
            pat = self.pattern
            if pat is None:
                led.off()
                await flag.wait()
                continue
            led.on()
            if await flag.wait(pat[1]):
                continue  # replaced while on
            led.off()
            await flag.wait(pat[2])  # replaced, or the next blink


class HapticPlayer:
    def __init__(self, sched, haptic, strength_pct=_STRENGTH_PCT, clock=None):
        self.haptic = haptic
        self.strength = strength_pct
        self.clock = clock
        self.flag = Flag(sched)
        self.pattern = None  # on / off durations (ms), starting with on
        self.step = 0
        self.plays = 0
        self.last_start_ms = None

    def play(self, name):
        pat = HAPTIC.get(name)
        if pat is None:
            raise ValueError("no haptic pattern %r (patterns: %s)" % (name, ", ".join(HAPTIC)))
        self.pattern = pat
        self.step = 0
        self.plays += 1
        self.haptic.on(self.strength)
        if self.clock is not None:
            self.last_start_ms = self.clock.ticks_ms()
        self.flag.set()

    def stop(self):
        self.pattern = None
        self.haptic.off()
        self.flag.set()

    async def run(self):
        flag = self.flag
        while True:
            pat = self.pattern
            if pat is None:
                await flag.wait()
                continue
            i = self.step
            if await flag.wait(pat[i]):
                continue  # a new pattern started (play() turned the motor on)
            if self.pattern is not pat or self.step != i:
                continue
            i += 1
            if i >= len(pat):
                self.pattern = None
                self.haptic.off()
                continue
            self.step = i
            if i & 1:
                self.haptic.off()
            else:
                self.haptic.on(self.strength)
