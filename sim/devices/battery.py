"""The board's LiPo battery: state of charge moved by the board's own current draw (from the
world's power meter) and by the charger, an open-circuit voltage curve, internal resistance.

High-level side: `set_soc(pct)`, `set_charging(on)`; the load comes from what the firmware
does (power states and parts' currents), plus any extra `drain` a scenario adds to the
power meter.
"""
from sim.devices.base import Part

# open-circuit voltage of a 1S LiPo vs state of charge (typical curve, 25 C). 0 % is
# empty as a fuel gauge reports it (3.0 V); below it the cell still holds a little and
# its voltage falls steeply to the protection circuit's cut-off (the tail: TAIL of the
# capacity, down to CUT_V), where the pack disconnects until a charger is connected.
TAIL = 0.03
CUT_V = 2.5
_OCV = ((-TAIL, CUT_V), (-0.01, 2.85), (0.00, 3.00), (0.05, 3.45), (0.10, 3.60),
        (0.20, 3.68), (0.30, 3.73), (0.40, 3.77), (0.50, 3.80), (0.60, 3.85), (0.70, 3.91),
        (0.80, 3.98), (0.90, 4.07), (1.00, 4.18))


def ocv(soc):
    soc = min(1.0, max(-TAIL, soc))
    for (s0, v0), (s1, v1) in zip(_OCV, _OCV[1:]):
        if soc <= s1:
            return v0 + (v1 - v0) * (soc - s0) / (s1 - s0)
    return _OCV[-1][1]


class Battery(Part):
    kind = "battery"

    def __init__(self, world, capacity_mah, soc_pct=80.0, charge_ma=100, r_ohm=0.2):
        super().__init__(world, "battery")
        if capacity_mah <= 0:
            raise ValueError("battery capacity must be > 0 mAh")
        self.capacity_mah = capacity_mah
        self.charge_ma = charge_ma
        self.r_ohm = r_ohm
        self.soc = soc_pct / 100.0
        self.charging = False
        self._last_us = world.now_us()
        self._last_mas = world.power.charge_mas()
        self.net_ma = 0.0  # + charging, - discharging, over the last update
        self.empty_noted = False
        self.cut = False  # the protection circuit disconnected the pack (below CUT_V)

    def _charge_current(self):
        if not self.charging:
            return 0.0
        if self.soc < 0.9:  # constant current, then the charger tapers (CV phase)
            return float(self.charge_ma)
        return self.charge_ma * max(0.0, (1.0 - self.soc) / 0.1)

    def update(self):
        now = self.world.now_us()
        dt = now - self._last_us
        mas = self.world.power.charge_mas()
        load_mas = mas - self._last_mas  # also charge drawn at this instant (a wake's cost)
        if dt <= 0 and not load_mas:
            return
        chg_mas = self._charge_current() * dt / 1e6 if dt > 0 else 0.0
        if self.cut:
            load_mas = 0.0  # disconnected: the board gets nothing from the cell
        self.soc += (chg_mas - load_mas) / (self.capacity_mah * 3600.0)
        self.soc = min(1.0, max(-TAIL, self.soc))
        if dt > 0:
            self.net_ma = (chg_mas - load_mas) / (dt / 1e6)
        self._last_us = now
        self._last_mas = mas
        if self.soc <= 0.0 and not self.empty_noted:
            self.empty_noted = True
            self.note("empty (as a fuel gauge reports it)")
        elif self.soc > 0.01:
            self.empty_noted = False
        if not self.cut and self.soc <= -TAIL:
            self.cut = True
            self.note("below %.1f V: the protection circuit disconnects the pack" % CUT_V)
        elif self.cut and self.charging:
            self.cut = False
            self.note("the charger reconnects the pack")

    def gauge_soc(self):
        """The state of charge a fuel gauge reports (0 below empty)."""
        self.update()
        return max(0.0, self.soc)

    def load_ma(self):
        return self.world.power.current_ma()

    def voltage(self):
        """Terminal voltage now: OCV minus the drop of the load (plus the charger's push)."""
        self.update()
        if self.cut:
            return 0.0
        v = ocv(self.soc) - self.load_ma() * self.r_ohm / 1000.0
        if self.charging:
            v = min(4.2, v + self._charge_current() * self.r_ohm / 1000.0)
        return v

    def crate_pct_per_h(self):
        self.update()
        i = self._charge_current() - self.load_ma()
        return i / self.capacity_mah * 100.0

    # ---- high-level side -----------------------------------------------------------------
    def set_soc(self, pct):
        self.update()
        self.soc = min(1.0, max(-TAIL, pct / 100.0))
        self.note("state of charge set to %.0f%%" % pct)

    def set_charging(self, on):
        self.update()
        self.charging = bool(on)
        self.note("charger %s" % ("connected" if on else "disconnected"))

    def describe(self):
        self.update()
        return "%.1f%% %.3f V%s%s" % (self.soc * 100, self.voltage(),
                                      " charging" if self.charging else "",
                                      ", pack disconnected" if self.cut else "")
