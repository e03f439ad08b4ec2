# Vishay VCNL4040 proximity + ambient light sensor over I2C (worn detection).
#
#   prox = VCNL4040(i2c, 0x60)                # checks the ID register (0x0186)
#   prox.enable_proximity(led_ma=100, duty=320, it=2, high_res=True)
#   counts = prox.proximity()                 # raw counts: higher = closer
#   prox.set_thresholds(low, high)            # then flags() -> (close, away)
#   prox.enable_light(); lux = prox.lux()
#
# Registers are 16-bit, addressed by command code, LSB first. Two preallocated bytes.
from micropython import const

from firmware.drivers import not_found, wrong_id

_ALS_CONF = const(0x00)
_PS_CONF12 = const(0x03)
_PS_CONF3_MS = const(0x04)
_PS_CANC = const(0x05)
_PS_THDL = const(0x06)
_PS_THDH = const(0x07)
_PS_DATA = const(0x08)
_ALS_DATA = const(0x09)
_INT_FLAG = const(0x0B)
_ID = const(0x0C)
_ID_VALUE = const(0x0186)

_PS_SD = const(0x0001)
_PS_HD = const(0x0800)
_ALS_SD = const(0x0001)

_DUTY = {40: 0, 80: 1, 160: 2, 320: 3}
_IT = {1: 0, 2: 2, 3: 4, 4: 6, 8: 7}  # integration time in T -> PS_IT code
_LED = (50, 75, 100, 120, 140, 160, 180, 200)
_ALS_IT = {80: 0, 160: 1, 320: 2, 640: 3}
_ALS_LUX_X10000 = (1000, 500, 250, 125)  # lux per step, x 10000


class VCNL4040:
    def __init__(self, i2c, addr=0x60):
        self.i2c = i2c
        self.addr = addr
        self._b2 = bytearray(2)
        self._ps = None  # (led_ma, duty, it, high_res, cancel) while proximity is on
        self._thresholds = None
        self._als_it = 0  # 0: light sensing off
        self.init()

    def _r16(self, code):
        self.i2c.readfrom_mem_into(self.addr, code, self._b2)
        return self._b2[0] | (self._b2[1] << 8)

    def _w16(self, code, value):
        self._b2[0] = value & 0xFF
        self._b2[1] = (value >> 8) & 0xFF
        self.i2c.writeto_mem(self.addr, code, self._b2)

    def init(self):
        """Check the ID and (re)apply the configuration."""
        try:
            ident = self._r16(_ID)
        except OSError as e:
            raise not_found("VCNL4040", self.addr, e)
        if ident != _ID_VALUE:
            raise wrong_id("VCNL4040", self.addr, "ID", ident, _ID_VALUE)
        if self._ps is not None:
            self.enable_proximity(*self._ps)
        if self._thresholds is not None:
            self.set_thresholds(*self._thresholds)
        if self._als_it:
            self.enable_light(self._als_it)

    # ---- proximity -----------------------------------------------------------------------
    def enable_proximity(self, led_ma=100, duty=320, it=2, high_res=True, cancel=0):
        """Proximity on: IR LED current (50..200 mA), duty 1/40..1/320 (lower = less
        power, slower), integration time in T (1, 2, 3, 4, 8), 16-bit output."""
        if duty not in _DUTY:
            raise ValueError("duty must be 40, 80, 160 or 320")
        if it not in _IT:
            raise ValueError("it must be 1, 2, 3, 4 or 8 (T)")
        if led_ma not in _LED:
            raise ValueError("led_ma must be one of 50, 75, 100, 120, 140, 160, 180, 200")
        intr = self._r16(_PS_CONF12) & 0x0300  # keep PS_INT
        conf = (_DUTY[duty] << 6) | (_IT[it] << 1) | intr | (_PS_HD if high_res else 0)
        self._w16(_PS_CONF3_MS, _LED.index(led_ma) << 8)
        self._w16(_PS_CANC, cancel)
        self._w16(_PS_CONF12, conf)
        self._ps = (led_ma, duty, it, high_res, cancel)

    def disable_proximity(self):
        self._w16(_PS_CONF12, _PS_SD)
        self._ps = None

    def proximity(self):
        """Raw counts (no unit): higher means something is closer."""
        return self._r16(_PS_DATA)

    def set_thresholds(self, low, high, interrupt=3):
        """Close above `high`, away below `low`; interrupt: 1 close, 2 away, 3 both."""
        if not 0 <= low < high <= 0xFFFF:
            raise ValueError("need 0 <= low < high <= 65535")
        self._w16(_PS_THDL, low)
        self._w16(_PS_THDH, high)
        conf = self._r16(_PS_CONF12) & ~0x0300
        self._w16(_PS_CONF12, conf | ((interrupt & 3) << 8))
        self._thresholds = (low, high, interrupt)

    def flags(self):
        """(close, away) since the last call (reading clears them)."""
        f = self._r16(_INT_FLAG) >> 8
        return bool(f & 0x02), bool(f & 0x01)

    # ---- ambient light ---------------------------------------------------------------------
    def enable_light(self, it_ms=80):
        if it_ms not in _ALS_IT:
            raise ValueError("it_ms must be 80, 160, 320 or 640")
        self._w16(_ALS_CONF, _ALS_IT[it_ms] << 6)
        self._als_it = it_ms

    def disable_light(self):
        self._w16(_ALS_CONF, _ALS_SD)
        self._als_it = 0

    def lux(self):
        if not self._als_it:
            raise ValueError("ambient light sensing is off: call enable_light() first")
        return self._r16(_ALS_DATA) * _ALS_LUX_X10000[_ALS_IT[self._als_it]] / 10000
