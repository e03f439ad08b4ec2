# ST LSM6DSOX accelerometer + gyroscope over I2C, with the chip's own tap engine on INT1.
#
#   imu = LSM6DSOX(i2c, 0x6A, int1=Pin(1, Pin.IN))   # checks WHO_AM_I
#   imu.configure(accel_hz=416, accel_g=2, gyro_hz=26, gyro_dps=500)
#   imu.enable_taps(threshold_g=0.6, double=True)     # single + double tap on INT1
#   imu.on_int1(handler)                              # handler(pin): set a Flag, no more
#   kind = imu.read_tap()                             # TAP_NONE / TAP_SINGLE / TAP_DOUBLE
#
# Units: accel() in m/s^2, gyro() in degrees per second. Registers per datasheet DS12814;
# tap settings from ST AN5272. Reads go through one preallocated buffer (no slicing).
from micropython import const

from firmware.drivers import not_found, wrong_id

_WHO_AM_I = const(0x0F)
_CHIP_ID = const(0x6C)
_CTRL1_XL = const(0x10)
_CTRL2_G = const(0x11)
_CTRL3_C = const(0x12)
_TAP_SRC = const(0x1C)
_OUTX_L_G = const(0x22)
_OUTX_L_A = const(0x28)
_TAP_CFG0 = const(0x56)
_TAP_CFG1 = const(0x57)
_TAP_CFG2 = const(0x58)
_TAP_THS_6D = const(0x59)
_INT_DUR2 = const(0x5A)
_WAKE_UP_THS = const(0x5B)
_MD1_CFG = const(0x5E)

_CTRL3_BDU_IF_INC = const(0x44)
_TAP_SRC_DOUBLE = const(0x10)
_TAP_SRC_SINGLE = const(0x20)

TAP_NONE = const(0)
TAP_SINGLE = const(1)
TAP_DOUBLE = const(2)

_ODR_HZ = (0, 12, 26, 52, 104, 208, 416, 833, 1666, 3333, 6666)  # codes 0..10 (12 = 12.5)
_XL_FS = {2: 0, 4: 2, 8: 3, 16: 1}  # g -> FS_XL bits
_XL_UG = {2: 61, 4: 122, 8: 244, 16: 488}  # micro-g per LSB
_G_FS = {125: 0x02, 250: 0x00, 500: 0x04, 1000: 0x08, 2000: 0x0C}  # dps -> CTRL2_G bits
_G_UDPS = {125: 4375, 250: 8750, 500: 17500, 1000: 35000, 2000: 70000}  # micro-dps / LSB
_G_MS2 = 9.80665


def _odr_code(hz):
    """The slowest ODR at or above hz (0: off)."""
    if hz <= 0:
        return 0
    for code in range(1, len(_ODR_HZ)):
        if _ODR_HZ[code] >= hz:
            return code
    raise ValueError("ODR %d Hz too high (max 6666)" % hz)


def _s16(b, i):
    v = b[i] | (b[i + 1] << 8)
    return v - 65536 if v & 0x8000 else v


class LSM6DSOX:
    def __init__(self, i2c, addr=0x6A, int1=None):
        self.i2c = i2c
        self.addr = addr
        self.int1 = int1
        self._b1 = bytearray(1)
        self._b6 = bytearray(6)
        self.accel_hz = 0
        self.gyro_hz = 0
        self.accel_g = 2
        self.gyro_dps = 250
        self._xl_scale = _XL_UG[2] * _G_MS2 / 1000000
        self._g_scale = _G_UDPS[250] / 1000000
        self._taps = None  # (threshold_g, double, axes, latched) once enabled
        self.init()

    # ---- registers ----------------------------------------------------------------------
    def _read(self, reg):
        self.i2c.readfrom_mem_into(self.addr, reg, self._b1)
        return self._b1[0]

    def _write(self, reg, value):
        self._b1[0] = value
        self.i2c.writeto_mem(self.addr, reg, self._b1)

    def init(self):
        """Check WHO_AM_I and (re)apply the configuration: at boot and after the part
        came back from a fault (it may have lost power and its registers)."""
        try:
            who = self._read(_WHO_AM_I)
        except OSError as e:
            raise not_found("LSM6DSOX", self.addr, e)
        if who != _CHIP_ID:
            raise wrong_id("LSM6DSOX", self.addr, "WHO_AM_I", who, _CHIP_ID)
        self._write(_CTRL3_C, _CTRL3_BDU_IF_INC)
        self._apply_rates()
        if self._taps is not None:
            self.enable_taps(*self._taps)

    def _apply_rates(self):
        self._write(_CTRL1_XL, (_odr_code(self.accel_hz) << 4) | (_XL_FS[self.accel_g] << 2))
        self._write(_CTRL2_G, (_odr_code(self.gyro_hz) << 4) | _G_FS[self.gyro_dps])

    # ---- configuration ---------------------------------------------------------------------
    def configure(self, accel_hz=104, accel_g=2, gyro_hz=0, gyro_dps=250):
        """Output data rates (Hz, 0 = off; rounded up to the chip's rates) and full scales."""
        if accel_g not in _XL_FS:
            raise ValueError("accel_g must be 2, 4, 8 or 16")
        if gyro_dps not in _G_FS:
            raise ValueError("gyro_dps must be 125, 250, 500, 1000 or 2000")
        self.accel_hz = _ODR_HZ[_odr_code(accel_hz)]
        self.gyro_hz = _ODR_HZ[_odr_code(gyro_hz)]
        self.accel_g = accel_g
        self.gyro_dps = gyro_dps
        self._xl_scale = _XL_UG[accel_g] * _G_MS2 / 1000000
        self._g_scale = _G_UDPS[gyro_dps] / 1000000
        self._apply_rates()

    def set_gyro_hz(self, hz):
        """Gyro on at (at least) hz, or off with 0; the accelerometer is left alone."""
        self.gyro_hz = _ODR_HZ[_odr_code(hz)]
        self._write(_CTRL2_G, (_odr_code(self.gyro_hz) << 4) | _G_FS[self.gyro_dps])

    def power_down(self):
        self.accel_hz = self.gyro_hz = 0
        self._apply_rates()

    # ---- readings (SI units) -------------------------------------------------------------
    def accel(self):
        """(x, y, z) in m/s^2."""
        b = self._b6
        self.i2c.readfrom_mem_into(self.addr, _OUTX_L_A, b)
        s = self._xl_scale
        return (_s16(b, 0) * s, _s16(b, 2) * s, _s16(b, 4) * s)

    def gyro(self):
        """(x, y, z) in degrees per second (x roll, y pitch, z yaw on the glasses)."""
        b = self._b6
        self.i2c.readfrom_mem_into(self.addr, _OUTX_L_G, b)
        s = self._g_scale
        return (_s16(b, 0) * s, _s16(b, 2) * s, _s16(b, 4) * s)

    # ---- the tap engine --------------------------------------------------------------------
    def enable_taps(self, threshold_g=0.6, double=True, axes="xyz", latched=True):
        """Single (and with double=True, also double) taps on INT1. Needs the
        accelerometer at >= 416 Hz, which this sets if it is slower. latched: INT1 stays
        high until read_tap() (never miss one between two reads)."""
        if self.accel_hz < 416:
            self.configure(416, self.accel_g, self.gyro_hz, self.gyro_dps)
        ths = int(threshold_g * 32 / self.accel_g + 0.5)
        ths = 1 if ths < 1 else (31 if ths > 31 else ths)
        en = 0
        for ax in axes:
            en |= {"x": 0x08, "y": 0x04, "z": 0x02}[ax]
        self._write(_TAP_CFG0, 0x40 | en | (0x01 if latched else 0))  # INT_CLR_ON_READ
        self._write(_TAP_CFG1, ths)  # TAP_PRIORITY 0, X threshold
        self._write(_TAP_CFG2, 0x80 | ths)  # INTERRUPTS_ENABLE, Y threshold
        self._write(_TAP_THS_6D, ths)  # Z threshold
        # INT_DUR2: DUR | QUIET | SHOCK, as AN5272's examples
        self._write(_INT_DUR2, 0x7F if double else 0x06)
        self._write(_WAKE_UP_THS, 0x80 if double else 0x00)  # SINGLE_DOUBLE_TAP
        self._write(_MD1_CFG, 0x48 if double else 0x40)  # INT1: single (+ double) tap
        self._taps = (threshold_g, double, axes, latched)

    def disable_taps(self):
        self._write(_MD1_CFG, 0)
        self._write(_TAP_CFG2, 0)
        self._write(_TAP_CFG0, 0)
        self._taps = None

    def read_tap(self):
        """What the tap engine saw since the last read (clears a latched INT1)."""
        src = self._read(_TAP_SRC)
        if src & _TAP_SRC_DOUBLE:
            return TAP_DOUBLE
        if src & _TAP_SRC_SINGLE:
            return TAP_SINGLE
        return TAP_NONE

    def on_int1(self, handler):
        """handler(pin) on INT1's rising edge. Keep it tiny: set a Flag."""
        if self.int1 is None:
            raise ValueError("LSM6DSOX INT1 is not wired on this board")
        self.int1.irq(handler, self.int1.IRQ_RISING)
