"""Power accounting for one simulated board.

The board is always in exactly one power state (active, idle, lightsleep, deepsleep, and
off: browned out, sim/supply.py), each
with a current from the board file; parts and activities add their own currents on top
(`set_adder`: radio, mic, speaker, haptic, LEDs, sensors...). Time is integer microseconds
of simulated time, so the time per state sums exactly to the simulated time.

CPU time. In virtual time the firmware's code takes no simulated time (the clock only moves
while the firmware waits), so the CPU's run time cannot be measured there. Each wake from
idle or sleep is charged `active_us_per_wake` microseconds of the active state instead,
taken out of the wait it ends (the board file gives the figure: wake-up latency plus a
typical MicroPython slice). In real time the wall time between a wake and the next wait is
counted as active too.
"""

STATES = ("active", "idle", "lightsleep", "deepsleep", "off")
_SLEEPS = ("idle", "lightsleep", "deepsleep")
_OPTIONAL = {"off": 0.0}  # browned out: the MCU draws nothing (the board's quiescent stays)


class PowerMeter:
    def __init__(self, currents_ma, now_us, battery_mah=0, active_us_per_wake=0):
        missing = [s for s in STATES if s not in currents_ma and s not in _OPTIONAL]
        if missing:
            raise ValueError("board currents lack %s (mA per power state)" % ", ".join(missing))
        self.currents_ma = dict(_OPTIONAL)
        self.currents_ma.update(currents_ma)
        self.battery_mah = battery_mah
        self.active_us_per_wake = active_us_per_wake
        self._now = now_us
        t = now_us()
        self._t0 = t
        self._last = t
        self.state = "active"
        self._state_since = t
        self.state_us = dict.fromkeys(STATES, 0)
        self.state_charge = dict.fromkeys(STATES, 0.0)  # mA * us
        self.adders_ma = {}
        self.adder_charge = {}  # mA * us per adder
        self.wakes = 0
        self.transitions = 0
        self.hooks = []  # fn() after every state change / wake (models that follow it)

    # ---- bookkeeping ---------------------------------------------------------------------
    def _advance(self):
        now = self._now()
        dt = now - self._last
        if dt <= 0:
            return now
        s = self.state
        self.state_us[s] += dt
        self.state_charge[s] += self.currents_ma[s] * dt
        for name, ma in self.adders_ma.items():
            if ma:
                self.adder_charge[name] = self.adder_charge.get(name, 0.0) + ma * dt
        self._last = now
        return now

    def set_state(self, state):
        """Enter a power state (the board asked for it: lightsleep, idle, ...)."""
        if state not in self.currents_ma:
            raise ValueError("unknown power state %r" % (state,))
        now = self._advance()
        if state != self.state:
            self.transitions += 1
            self.state = state
            self._state_since = now
        for fn in self.hooks:
            fn()

    def wake(self):
        """The firmware runs again after a wait: back to active, charging the wake cost."""
        now = self._advance()
        s = self.state
        if s in _SLEEPS:
            self.wakes += 1
            slept = now - self._state_since
            c = min(self.active_us_per_wake, slept, self.state_us[s])
            if c > 0:
                self.state_us[s] -= c
                self.state_charge[s] -= self.currents_ma[s] * c
                self.state_us["active"] += c
                self.state_charge["active"] += self.currents_ma["active"] * c
        if s != "active":
            self.transitions += 1
        self.state = "active"
        self._state_since = now
        for fn in self.hooks:
            fn()

    def set_clock(self, currents_ma, active_us_per_wake):
        """The CPU clock changed (machine.freq): these state currents and wake cost now."""
        self._advance()
        for k, v in currents_ma.items():
            if k not in self.currents_ma:
                raise ValueError("unknown power state %r" % (k,))
            self.currents_ma[k] = v
        self.active_us_per_wake = active_us_per_wake

    def set_adder(self, name, ma):
        """A part or activity now draws `ma` on top of the state's current (0: off)."""
        if ma < 0:
            raise ValueError("current must be >= 0 mA")
        if self.adders_ma.get(name, 0) == ma:
            return
        self._advance()
        self.adders_ma[name] = ma

    def add_charge(self, name, ma_us):
        """A lump of charge (mA * us) drawn by `name` just now (a burst on the radio)."""
        if ma_us < 0:
            raise ValueError("charge must be >= 0")
        self._advance()
        self.adder_charge[name] = self.adder_charge.get(name, 0.0) + ma_us

    # ---- figures -------------------------------------------------------------------------
    def current_ma(self):
        return self.currents_ma[self.state] + sum(self.adders_ma.values())

    def elapsed_us(self):
        self._advance()
        return self._last - self._t0

    def charge_mas(self):
        """Charge drawn so far, in mA*s."""
        self._advance()
        total = sum(self.state_charge.values()) + sum(self.adder_charge.values())
        return total / 1e6

    def report(self):
        """Time per state, average current and the battery life it implies."""
        us = self.elapsed_us()
        total = sum(self.state_charge.values()) + sum(self.adder_charge.values())
        avg = total / us if us else 0.0
        life = self.battery_mah / avg if avg > 0 and self.battery_mah else None
        return {
            "seconds": us / 1e6,
            "state_seconds": {s: self.state_us[s] / 1e6 for s in STATES},
            "state_fraction": {s: (self.state_us[s] / us if us else 0.0) for s in STATES},
            "state_mah": {s: self.state_charge[s] / 3.6e9 for s in STATES},
            "adder_mah": {k: v / 3.6e9 for k, v in sorted(self.adder_charge.items())},
            "avg_ma": avg,
            "battery_mah": self.battery_mah,
            "battery_life_h": life,
            "wakes": self.wakes,
        }
