# The board's status LED and haptic motor, each with one owner: a player task that shows
# named patterns (the tables below) on the drivers (firmware/drivers/led.py, haptic.py).
# Every feature goes through these players (the app makes them: app.leds, app.motor), so
# no feature cuts another's pattern short.
#
#   leds = LedPlayer(sched, board.led)       leds.show("waiting")       # until changed
#   motor = HapticPlayer(sched, board.haptic) motor.play("urgent")      # once
#   motor.play("tap", idle_only=True)        # a gesture's buzz: not over a pattern
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

from firmware.runtime.sync import Flag

# LED patterns: (rgb, on_ms, off_ms, repeat) where repeat 0 = until another pattern.
LED = {
    "off": (0x000000, 0, 0, 0),
    "waiting": (0x0030FF, 80, 2920, 0),  # blue blip every 3 s: notifications waiting
    "waiting_urgent": (0xFF3000, 150, 850, 0),  # orange, every second: an urgent one
    "waiting_low": (0x001830, 60, 5940, 0),  # dim blip every 6 s: only low ones
    "battery_low": (0xFF0000, 200, 4800, 0),
    "pairing": (0x00FF00, 100, 400, 0),  # fast blink: the pairing window is open
}

# Haptic patterns: alternating on/off durations in ms, starting with on.
HAPTIC = {
    "tick": (25,),
    "urgent": (120, 80, 120, 80, 120),
    "confirm": (40,),
    "nope": (20, 60, 20),  # the gesture means nothing here
    "error": (200,),  # it meant something, but could not be done
    "tap": (40,),  # a tap or touch was felt (app.py's feedback)
}

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
        self.name = "off"  # what show() asked for
        self.over = None  # a pattern shown over it (override)
        self.pattern = None  # (rgb, on_ms, off_ms, repeat) while one shows
        self.flag = Flag(sched)
        self.shared = SharedLed(self)
        self.shows = 0

    def show(self, name):
        """Show a pattern from LED until another replaces it ("off")."""
        pat = LED.get(name)
        if pat is None:
            raise ValueError("no LED pattern %r (patterns: %s)" % (name, ", ".join(LED)))
        self.name = name
        self.shows += 1
        if self.over is None:
            self.pattern = pat if pat[1] > 0 else None
            self.flag.set()

    def override(self, name=None):
        """Show this pattern over whatever show() asked for, until override(None) gives
        the LED back (the pairing window: the wearer must see it)."""
        if name is not None and name not in LED:
            raise ValueError("no LED pattern %r" % (name,))
        self.over = name
        pat = LED[name if name is not None else self.name]
        self.pattern = pat if pat[1] > 0 else None
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
        self.level = strength_pct  # the strength of the pattern playing
        self.last_start_ms = None

    def play(self, name, strength_pct=None, idle_only=False):
        """Play a pattern from HAPTIC (at strength_pct, else the player's). idle_only: not
        while another pattern plays (returns False then)."""
        pat = HAPTIC.get(name)
        if pat is None:
            raise ValueError("no haptic pattern %r (patterns: %s)" % (name, ", ".join(HAPTIC)))
        if idle_only and self.pattern is not None:
            return False
        self.pattern = pat
        self.step = 0
        self.plays += 1
        self.level = self.strength if strength_pct is None else strength_pct
        self.haptic.on(self.level)
        if self.clock is not None:
            self.last_start_ms = self.clock.ticks_ms()
        self.flag.set()
        return True

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
                self.haptic.on(self.level)
