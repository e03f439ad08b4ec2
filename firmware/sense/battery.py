# Battery policy from the fuel gauge's samples.
#
#   on_battery(soc_pct, volts, charging, t_ms)  a fuel gauge reading
#   on_fault(part, reason)                      the gauge died: level unknown
#   ota_allowed() / ota_refusal()               may an OTA update start now (and why not)
#
# Per reading nothing is allocated unless a warning fires.
#
# - level: the state of charge as a whole percent (truncated); notify_level(pct) is called (for the
#   Battery service, 0x2A19) whenever it differs by >= 1 % from the last value notified.
# - low-battery warnings: for each threshold in warn_pct, once per crossing while not
#   charging: chime("battery_low") and speak("Battery low, N percent"). A threshold is
#   re-armed once a charging reading reaches threshold + rearm_hyst_pct. Several
#   thresholds crossed at once give one warning (the lowest).
# - critical: at or below critical_pct while not charging, shed(True) once (the app turns
#   off what it can) and OTA is refused; shed(False) when charging or above
#   critical_pct + critical_hyst_pct.
# - a board whose config says ota_needs_charging refuses OTA unless charging.
from firmware.sense.emit import safe_emit

BATTERY = {
    "warn_pct": (20, 10, 5),  # thresholds, any order
    "rearm_hyst_pct": 5,
    "critical_pct": 3,
    "critical_hyst_pct": 2,
    "ota_min_pct": 20,  # below this OTA is refused (a flash write must not brown out)
    "ota_needs_charging": False,  # from the board: refuse OTA unless on the charger
}

CHIME_LOW = "battery_low"
CHIME_CRITICAL = "battery_critical"


class Battery:
    def __init__(self, notify_level=None, chime=None, speak=None, shed=None, emit=None,
                 config=None, log=None, parts=("fuel_gauge", "battery")):
        c = BATTERY if config is None else config
        self.thresholds = sorted(c["warn_pct"])  # ascending: the lowest crossed wins
        self.rearm_hyst = c["rearm_hyst_pct"]
        self.critical = c["critical_pct"]
        self.critical_hyst = c["critical_hyst_pct"]
        self.ota_min = c["ota_min_pct"]
        self.ota_needs_charging = c["ota_needs_charging"]
        for t in self.thresholds:
            if not 0 < t < 100:
                raise ValueError("battery: warning threshold %r is not a percentage" % (t,))
        self.notify_level = notify_level
        self.chime = chime
        self.speak = speak
        self.shed = shed
        self.emit = emit
        self.log = log
        self.parts = parts
        self._armed = bytearray(len(self.thresholds))
        for i in range(len(self._armed)):
            self._armed[i] = 1
        self.level = -1  # whole percent; -1 = unknown
        self.volts = 0
        self.charging = False
        self.notified = -1  # the last level sent to notify_level
        self.shedding = False
        self.last_t = 0
        self.fault = None  # the reason the gauge is unusable, or None
        self.bad_samples = 0
        self.warnings = 0

    def on_battery(self, soc_pct, volts, charging, t_ms):
        if not -0.5 <= soc_pct <= 100.5:  # also refuses NaN
            self.bad_samples += 1
            if self.log is not None:
                self.log.warn("fuel gauge reading out of range: %s %%", soc_pct)
            return
        pct = int(soc_pct)  # whole percent, truncated (as phones show it); no float made
        if pct > 100:
            pct = 100
        elif pct < 0:
            pct = 0
        self.level = pct
        self.volts = volts
        self.charging = bool(charging)
        self.last_t = t_ms
        self.fault = None
        n = self.notified
        if n < 0 or pct - n >= 1 or n - pct >= 1:
            self.notified = pct
            if self.notify_level is not None:
                self.notify_level(pct)
        self._warnings(pct)
        self._critical(pct)

    def _warnings(self, pct):
        th = self.thresholds
        armed = self._armed
        if self.charging:
            for i in range(len(th)):
                if not armed[i] and pct >= th[i] + self.rearm_hyst:
                    armed[i] = 1
            return
        lowest = -1
        for i in range(len(th)):
            if armed[i] and pct <= th[i]:
                armed[i] = 0
                if lowest < 0:
                    lowest = i
        if lowest >= 0:
            self.warnings += 1
            if self.chime is not None:
                self.chime(CHIME_LOW)
            if self.speak is not None:
                self.speak("Battery low, %d percent" % pct)
            self._emit("battery_low", pct)

    def _critical(self, pct):
        if not self.shedding:
            if pct <= self.critical and not self.charging:
                self.shedding = True
                if self.chime is not None:
                    self.chime(CHIME_CRITICAL)
                if self.speak is not None:
                    self.speak("Battery critical, saving power")
                if self.shed is not None:
                    self.shed(True)
                self._emit("battery_critical", pct)
        elif self.charging or pct >= self.critical + self.critical_hyst:
            self.shedding = False
            if self.shed is not None:
                self.shed(False)

    def _emit(self, kind, payload):
        safe_emit(self.emit, self.log, kind, payload)

    def on_fault(self, part, reason):
        if part not in self.parts:
            return False
        self.fault = reason
        self.level = -1
        if self.log is not None:
            self.log.warn("fuel gauge failed (%s): battery level unknown", reason)
        self._emit("battery_unknown", reason)
        return True

    def ota_refusal(self):
        """None if an OTA update may start now, else the reason it may not."""
        if self.fault is not None:
            return "battery level unknown (fuel gauge: %s)" % self.fault
        if self.level < 0:
            return "battery level not measured yet"
        if self.shedding:
            return "battery critical (%d%%)" % self.level
        if self.ota_needs_charging and not self.charging:
            return "this board updates only while charging"
        if self.level < self.ota_min and not self.charging:
            return "battery at %d%%, below the %d%% an update needs" % (self.level, self.ota_min)
        return None

    def ota_allowed(self):
        return self.ota_refusal() is None
