"""The board's supply: the 3.3 V rail and the MCU's brown-out detector.

The rail comes from the cell through the board's regulator: an LDO drops out below
rail_v + dropout_v (the rail then follows the cell, dropout_v under it); a buck-boost
converter (min_in_v given) holds rail_v until the cell falls below min_in_v, then stops.
On USB (the charger connected) the rail is rail_v whatever the cell does. Every check_ms the rail is
compared with the MCU's brown-out level: below brownout_v the MCU resets and stays off
(power state "off": nothing runs) until the rail, with the board drawing almost nothing,
is back above release_v (the detector's hysteresis), which on a dead cell means a charger.
The board's DATA["supply"] gives the figures:

    "supply": {"rail_v": 3.3, "dropout_v": 0.2, "brownout_v": 2.5, "release_v": 2.7,
               "reset_cause": 1}     # what machine.reset_cause() says after a brown-out
    "supply": {"rail_v": 3.3, "min_in_v": 1.8, ...}      # a buck-boost converter

A board without it (or without a battery) never browns out.
"""

CHECK_MS = 250  # how often the detector looks (virtual time: a timer in the world's loop)


class Supply:
    def __init__(self, world, spec):
        self.world = world
        self.rail_v_max = float(spec.get("rail_v", 3.3))
        self.dropout_v = float(spec.get("dropout_v", 0.2))
        self.min_in_v = spec.get("min_in_v")  # a buck-boost converter's lowest input
        self.brownout_v = float(spec.get("brownout_v", 2.7))
        self.release_v = float(spec.get("release_v", self.brownout_v + 0.2))
        self.reset_cause = spec.get("reset_cause", 1)
        if not self.brownout_v < self.release_v <= self.rail_v_max:
            raise ValueError("supply: needs brownout_v < release_v <= rail_v")
        self.down = False  # browned out: the MCU is off
        self.brownouts = 0
        self.min_rail_v = self.rail_v_max
        self._handle = None

    def rail_v(self):
        """The rail now, under the present load."""
        b = self.world.battery
        if b is None or b.charging:
            return self.rail_v_max
        v = b.voltage()
        if self.min_in_v is not None:
            return self.rail_v_max if v >= self.min_in_v else 0.0
        return max(0.0, min(self.rail_v_max, v - self.dropout_v))

    def start(self):
        if self._handle is None:
            self._tick()
        return self

    def stop(self):
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _tick(self):
        self._handle = self.world.call_later_us(CHECK_MS * 1000, self._tick)
        if self.down:
            return
        v = self.rail_v()
        if v < self.min_rail_v:
            self.min_rail_v = v
        if v < self.brownout_v:
            self.down = True
            self.brownouts += 1
            b = self.world.battery
            self.world.note("hw", "brown-out: the rail fell to %.2f V (cell %.2f V): the MCU "
                            "resets and stays off until the supply recovers"
                            % (v, b.voltage() if b is not None else 0.0))
            w = self.world
            if w.deep_sleeping:  # the RTC domain loses power too: a power-on comes next
                w.reset_request = (self.reset_cause, "brownout", None)
                w.wake_from_deepsleep("brownout")
            else:
                w.request_reset(self.reset_cause, "brownout")

    def can_power_on(self):
        """Off now: would the rail, with the board drawing next to nothing, reach
        release_v? (A dead cell recovers a little at rest; only a charger brings it back.)"""
        return self.rail_v() >= self.release_v
