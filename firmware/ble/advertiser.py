# Advertising the glasses: the payloads (adv.py) and the phases, each (interval_us,
# duration_ms; 0: until a central connects). Fast right after boot or a disconnect, so a
# phone finds the glasses at once, then slow to save power (intervals from Apple's
# accessory design guidelines). The scan response carries the pairing state, so it is
# rebuilt (and sent at once, fast) whenever that changes.
from micropython import const

from firmware.ble import adv

ADV_PHASES = ((20000, 30000), (1022500, 0))
PREFERRED_INTERVAL_MS = (15, 30)
_IDLE = const(-1)


class Advertiser:
    def __init__(self, ble, clock, name, phases=ADV_PHASES):
        self._ble = ble
        self._clock = clock
        self.name = name
        self.phases = phases
        self.phase = _IDLE  # index in phases, -1 while not advertising
        self.interval_us = 0
        self.starts = 0
        self._deadline = None
        self._adv = None
        self._resp = None

    def payloads(self, pairing):
        self._adv = adv.advertising_data()
        self._resp = adv.scan_response(self.name, interval_ms=PREFERRED_INTERVAL_MS,
                                       pairing=pairing)

    def advertise(self, phase=0):
        if phase >= len(self.phases):
            phase = len(self.phases) - 1
        interval_us, duration_ms = self.phases[phase]
        self._ble.gap_advertise(interval_us, self._adv, resp_data=self._resp)
        self.phase = phase
        self.interval_us = interval_us
        self.starts += 1
        c = self._clock
        self._deadline = c.ticks_add(c.ticks_ms(), duration_ms) if duration_ms else None

    def stopped(self):
        """A central connected: the stack stops advertising."""
        self.phase = _IDLE
        self.interval_us = 0
        self._deadline = None

    def wait_ms(self, now):
        if self._deadline is None:
            return -1
        d = self._clock.ticks_diff(self._deadline, now)
        return d if d > 0 else 0

    def tick(self, now):
        """The next phase when this one's time is up."""
        if self._deadline is not None and self._clock.ticks_diff(now, self._deadline) >= 0:
            self.advertise(self.phase + 1)
