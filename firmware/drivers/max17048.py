# Maxim MAX17048 fuel gauge over I2C: cell voltage, state of charge, charge rate, alerts.
#
#   gauge = MAX17048(i2c, 0x36)     # checks VERSION (0x001_), clears the reset indicator
#   gauge.voltage()  -> V           gauge.soc() -> %        gauge.charge_rate() -> %/h
#   gauge.set_alert_threshold(10)   # STATUS.HD when SOC drops below 10 %
#   gauge.status() -> flags; gauge.clear_status(flags)
#
# Registers are 16-bit big-endian. Two preallocated bytes.
from micropython import const

from firmware.drivers import not_found, wrong_id

_VCELL = const(0x02)
_SOC = const(0x04)
_MODE = const(0x06)
_VERSION = const(0x08)
_CONFIG = const(0x0C)
_VALRT = const(0x14)
_CRATE = const(0x16)
_STATUS = const(0x1A)

# STATUS flags (high byte of the register)
STATUS_RI = const(0x01)  # reset indicator: the gauge (re)started and needs configuring
STATUS_VH = const(0x02)  # voltage above VALRT.MAX
STATUS_VL = const(0x04)  # voltage below VALRT.MIN
STATUS_VR = const(0x08)  # voltage reset
STATUS_HD = const(0x10)  # SOC below the alert threshold
STATUS_SC = const(0x20)  # SOC changed by 1 %

_VERSION_MASK = const(0xFFF0)
_VERSION_FAMILY = const(0x0010)


class MAX17048:
    def __init__(self, i2c, addr=0x36):
        self.i2c = i2c
        self.addr = addr
        self._b2 = bytearray(2)
        self.version = 0
        self.resets = 0  # times the gauge was found freshly reset (RI set)
        self._alert_pct = None
        self.init()

    def _r16(self, reg):
        self.i2c.readfrom_mem_into(self.addr, reg, self._b2)
        return (self._b2[0] << 8) | self._b2[1]

    def _w16(self, reg, value):
        self._b2[0] = (value >> 8) & 0xFF
        self._b2[1] = value & 0xFF
        self.i2c.writeto_mem(self.addr, reg, self._b2)

    def init(self):
        try:
            v = self._r16(_VERSION)
        except OSError as e:
            raise not_found("MAX17048", self.addr, e)
        if v & _VERSION_MASK != _VERSION_FAMILY:
            raise wrong_id("MAX17048", self.addr, "VERSION", v, _VERSION_FAMILY)
        self.version = v
        if self.status() & STATUS_RI:
            self.resets += 1
            self.clear_status(STATUS_RI)
        if self._alert_pct is not None:
            self.set_alert_threshold(self._alert_pct)

    # ---- readings --------------------------------------------------------------------------
    def voltage(self):
        """Cell voltage in V (78.125 uV per LSB)."""
        return self._r16(_VCELL) * 78.125 / 1000000

    def soc(self):
        """State of charge in % (1/256 % per LSB)."""
        return self._r16(_SOC) / 256

    def charge_rate(self):
        """Charge (+) or discharge (-) rate in % per hour (0.208 %/h per LSB)."""
        v = self._r16(_CRATE)
        if v & 0x8000:
            v -= 0x10000
        return v * 0.208

    # ---- alerts ----------------------------------------------------------------------------
    def status(self):
        return self._r16(_STATUS) >> 8

    def clear_status(self, flags=0xFF):
        self._w16(_STATUS, (self._r16(_STATUS) & ~(flags << 8)) & 0xFFFF)

    def set_alert_threshold(self, pct):
        """Alert (STATUS.HD, CONFIG.ALRT) when SOC falls below pct (1..32 %)."""
        if not 1 <= pct <= 32:
            raise ValueError("alert threshold must be 1..32 %")
        cfg = self._r16(_CONFIG)
        self._w16(_CONFIG, (cfg & 0xFFC0) | (32 - pct))  # clears ALRT too
        self._alert_pct = pct

    def set_voltage_alerts(self, min_v, max_v):
        lo = int(min_v / 0.02)
        hi = int(max_v / 0.02)
        if not 0 <= lo < hi <= 255:
            raise ValueError("need 0 <= min_v < max_v <= 5.1 V")
        self._w16(_VALRT, (lo << 8) | hi)

    def quick_start(self):
        """Restart the SOC estimate from the present voltage (after a battery swap)."""
        self._w16(_MODE, 0x4000)
