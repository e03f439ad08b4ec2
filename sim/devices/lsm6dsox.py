"""Virtual ST LSM6DSOX (accelerometer + gyroscope) at register level.

Bus side (datasheet DS12814 register map): WHO_AM_I 0x6C; CTRL1_XL/CTRL2_G (ODR, full
scale), CTRL3_C (IF_INC, H_LACTIVE, SW_RESET); outputs OUT_TEMP, OUTX/Y/Z_G, OUTX/Y/Z_A
(little-endian, sampled at the configured ODR, held between samples); STATUS_REG; and the
tap engine: TAP_CFG0 (axes, LIR), TAP_CFG1/TAP_CFG2/TAP_THS_6D (thresholds, FS/32 per LSB;
TAP_CFG2.INTERRUPTS_ENABLE), INT_DUR2 (SHOCK, QUIET, DUR windows), WAKE_UP_THS
(SINGLE_DOUBLE_TAP), MD1_CFG (INT1_SINGLE_TAP, INT1_DOUBLE_TAP). A recognised tap sets
TAP_SRC and, when routed, drives INT1: latched (LIR=1) until TAP_SRC or ALL_INT_SRC is
read, else a pulse one shock window long. A tap while INT1 is still latched produces no new
edge, as on the chip. The engine needs the accelerometer at >= 416 Hz (ST's advice for
tap recognition); slower, taps are missed.

High-level side: `nod()`, `shake()`, `tilt()` (pitch/yaw/roll oscillations seen by the
gyro and, through gravity, the accelerometer), `tap()`, `double_tap()`.
Device axes on the glasses: x forward along the temple, y left, z up; gyro x = roll,
y = pitch (nod), z = yaw (shake).
"""
import math

from sim.devices.base import RegisterPart, noise

WHO_AM_I_VALUE = 0x6C
_WHO_AM_I = 0x0F
_CTRL1_XL = 0x10
_CTRL2_G = 0x11
_CTRL3_C = 0x12
_ALL_INT_SRC = 0x1A
_TAP_SRC = 0x1C
_STATUS_REG = 0x1E
_OUT_TEMP_L = 0x20
_OUTX_L_G = 0x22
_OUTX_L_A = 0x28
_TAP_CFG0 = 0x56
_TAP_CFG1 = 0x57
_TAP_CFG2 = 0x58
_TAP_THS_6D = 0x59
_INT_DUR2 = 0x5A
_WAKE_UP_THS = 0x5B
_MD1_CFG = 0x5E

ODR_HZ = (0, 12.5, 26, 52, 104, 208, 416, 833, 1666, 3333, 6666, 1.6)
XL_FS_G = (2, 16, 4, 8)
XL_MG_PER_LSB = {2: 0.061, 4: 0.122, 8: 0.244, 16: 0.488}
G_FS_DPS = (250, 500, 1000, 2000)
G_MDPS_PER_LSB = {125: 4.375, 250: 8.75, 500: 17.5, 1000: 35.0, 2000: 70.0}
G = 9.80665
_AXES = "xyz"
_TAP_AXIS_BIT = {0: 0x04, 1: 0x02, 2: 0x01}  # TAP_SRC X_TAP, Y_TAP, Z_TAP
_TAP_EN_BIT = {0: 0x08, 1: 0x04, 2: 0x02}  # TAP_CFG0 TAP_X_EN, TAP_Y_EN, TAP_Z_EN
_TAP_THS_REG = {0: _TAP_CFG1, 1: _TAP_CFG2, 2: _TAP_THS_6D}
_MAX_MOTIONS = 16
_MAX_IMPULSES = 16


class _Motion:
    def __init__(self, axis, t0_us, cycles, freq_hz, amp_deg):
        self.axis = axis
        self.t0 = t0_us
        self.freq = freq_hz
        self.amp = amp_deg
        self.end = t0_us + int(cycles / freq_hz * 1e6)

    def rate_dps(self, t):
        if not self.t0 <= t < self.end:
            return 0.0
        w = 2 * math.pi * self.freq
        return self.amp * w * math.cos(w * (t - self.t0) / 1e6)

    def angle_deg(self, t):
        if not self.t0 <= t < self.end:
            return 0.0
        return self.amp * math.sin(2 * math.pi * self.freq * (t - self.t0) / 1e6)


def _s16(v):
    v = int(round(v))
    return max(-32768, min(32767, v))


class LSM6DSOX(RegisterPart):
    kind = "lsm6dsox"
    RESET = {_WHO_AM_I: WHO_AM_I_VALUE, _CTRL3_C: 0x04}
    ACCEL_MA = 0.17  # high-performance accelerometer (datasheet, typical)
    ACCEL_LP_MA = 0.026  # low-power accelerometer at <= 104 Hz
    GYRO_MA = 0.45  # gyroscope on (high-performance)

    @classmethod
    def wire(cls, world, name, spec, **options):
        bus = world.data["i2c"]
        part = cls(world, name, spec.get("addr", 0x6A), int1=spec.get("int1"), **options)
        world.attach_i2c(bus["scl"], bus["sda"], part)
        return part

    def __init__(self, world, name, addr=0x6A, int1=None):
        self.int1_gpio = int1
        self.motions = []
        self.impulses = []  # (t_us, axis, g, sign)
        self.tap_src = 0
        self.all_int_src = 0
        self.int1_active = False
        self.taps_recognised = 0
        self.taps_missed = 0
        self._last_tap_us = None
        self._pulse = None
        super().__init__(world, name, addr)
        b = self.seed
        self.gyro_bias = [0.4 * noise(b, 101 + i) for i in range(3)]  # zero-rate level, dps

    # ---- registers ------------------------------------------------------------------------
    def power_on_reset(self):
        super().power_on_reset()
        self.tap_src = 0
        self.all_int_src = 0
        self._last_tap_us = None
        self._set_int1(False)
        self._update_power()

    def auto_increment(self):
        return bool(self.regs[_CTRL3_C] & 0x04)

    def write_reg(self, reg, value):
        if reg == _WHO_AM_I or _ALL_INT_SRC <= reg <= _OUTX_L_A + 5:
            return  # read-only
        if reg == _CTRL3_C and value & 0x01:  # SW_RESET: back to defaults, bit self-clears
            self.power_on_reset()
            return
        self.regs[reg] = value
        if reg in (_CTRL1_XL, _CTRL2_G):
            self._update_power()
        if reg == _CTRL3_C:
            self._drive_int1()

    def read_reg(self, reg):
        if reg == _TAP_SRC:
            v = self.tap_src
            if self._latched():
                self.tap_src = 0
                self.all_int_src &= ~0x0C
                self._set_int1(False)
            return v
        if reg == _ALL_INT_SRC:
            v = self.all_int_src
            if self._latched():
                self.all_int_src = 0
                self.tap_src = 0
                self._set_int1(False)
            return v
        return self.regs[reg]

    def refresh(self):
        """Latch the outputs for this read transfer (block data update)."""
        t = self.world.now_us()
        xl_odr = self.xl_odr()
        g_odr = self.gyro_odr()
        status = 0
        if g_odr:
            k = int(t * g_odr // 1e6)
            rate = self._gyro_dps(k * 1e6 / g_odr, k)
            sens = G_MDPS_PER_LSB[self.gyro_fs_dps()] / 1000.0
            for i in range(3):
                self._put16(_OUTX_L_G + 2 * i, _s16(rate[i] / sens))
            status |= 0x02
        if xl_odr:
            k = int(t * xl_odr // 1e6)
            acc = self._accel_g(k * 1e6 / xl_odr, k)
            sens = XL_MG_PER_LSB[self.xl_fs_g()] / 1000.0
            for i in range(3):
                self._put16(_OUTX_L_A + 2 * i, _s16(acc[i] / sens))
            status |= 0x01
        if xl_odr or g_odr:  # 256 LSB per degree C, 0 at 25 C
            self._put16(_OUT_TEMP_L, _s16(256 * (6.0 + 0.2 * noise(self.seed, t // 1000000))))
            status |= 0x04
        self.regs[_STATUS_REG] = status

    def _put16(self, reg, v):
        v &= 0xFFFF
        self.regs[reg] = v & 0xFF
        self.regs[reg + 1] = v >> 8

    # ---- configuration as the registers say ------------------------------------------------
    def xl_odr(self):
        return ODR_HZ[self.regs[_CTRL1_XL] >> 4] if self.regs[_CTRL1_XL] >> 4 < 12 else 0

    def gyro_odr(self):
        code = self.regs[_CTRL2_G] >> 4
        return ODR_HZ[code] if code < 11 else 0

    def xl_fs_g(self):
        return XL_FS_G[(self.regs[_CTRL1_XL] >> 2) & 3]

    def gyro_fs_dps(self):
        c = self.regs[_CTRL2_G]
        return 125 if c & 0x02 else G_FS_DPS[(c >> 2) & 3]

    def _latched(self):
        return bool(self.regs[_TAP_CFG0] & 0x01)

    def _update_power(self):
        odr = self.xl_odr()
        ma = 0.0
        if odr:
            ma += self.ACCEL_MA if odr > 104 else self.ACCEL_LP_MA
        if self.gyro_odr():
            ma += self.GYRO_MA
        self.world.power.set_adder(self.name, ma)

    # ---- physics ---------------------------------------------------------------------------
    def _gyro_dps(self, t, k):
        out = [self.gyro_bias[i] + 0.05 * noise(self.seed, 3 * k + i) for i in range(3)]
        for m in self.motions:
            out[m.axis] += m.rate_dps(t)
        return out

    def _accel_g(self, t, k):
        roll = pitch = 0.0
        for m in self.motions:
            if m.axis == 0:
                roll += m.angle_deg(t)
            elif m.axis == 1:
                pitch += m.angle_deg(t)
        r, p = math.radians(roll), math.radians(pitch)
        out = [-math.sin(p), math.sin(r) * math.cos(p), math.cos(r) * math.cos(p)]
        for i in range(3):
            out[i] += 0.002 * noise(self.seed, 7 * k + 1000 + i)
        for t0, axis, g, sign in self.impulses:
            if t0 <= t < t0 + 4000:  # a 4 ms half-sine knock
                out[axis] += sign * g * math.sin(math.pi * (t - t0) / 4000)
        return out

    def _prune(self, t):
        self.motions = [m for m in self.motions if m.end > t][-_MAX_MOTIONS:]
        self.impulses = [i for i in self.impulses if i[0] + 4000 > t][-_MAX_IMPULSES:]

    # ---- the tap engine --------------------------------------------------------------------
    def _windows_us(self, odr):
        d = self.regs[_INT_DUR2]
        shock, quiet, dur = d & 3, (d >> 2) & 3, d >> 4
        shock_us = (shock * 8 if shock else 4) * 1e6 / odr
        quiet_us = (quiet * 4 if quiet else 2) * 1e6 / odr
        dur_us = (dur * 32 if dur else 16) * 1e6 / odr
        return int(shock_us), int(quiet_us), int(dur_us)

    def _recognise(self, t, axis, g, sign):
        why = None
        odr = self.xl_odr()
        thr = (self.regs[_TAP_THS_REG[axis]] & 0x1F) * self.xl_fs_g() / 32.0
        if not self.present:
            why = "part not answering"
        elif odr < 416:
            why = "accelerometer ODR %s Hz (< 416 Hz)" % odr
        elif not self.regs[_TAP_CFG2] & 0x80:
            why = "INTERRUPTS_ENABLE off"
        elif not self.regs[_TAP_CFG0] & _TAP_EN_BIT[axis]:
            why = "tap on %s disabled" % _AXES[axis]
        elif g <= thr:
            why = "%.2f g below threshold %.2f g" % (g, thr)
        if why:
            self.taps_missed += 1
            self.note("tap not recognised: " + why)
            return
        shock_us, quiet_us, dur_us = self._windows_us(odr)
        double_mode = bool(self.regs[_WAKE_UP_THS] & 0x80)
        last = self._last_tap_us
        if last is not None and t - last < quiet_us:
            return  # inside the quiet window of the previous tap: ignored
        if double_mode and last is not None and t - last <= dur_us:
            kind = 0x10  # DOUBLE_TAP
            self._last_tap_us = None
        else:
            kind = 0x20  # SINGLE_TAP
            self._last_tap_us = t
        bits = 0x40 | kind | (0x08 if sign < 0 else 0) | _TAP_AXIS_BIT[axis]
        self.world.call_at_us(t + shock_us, self._event, bits, shock_us)

    def _event(self, bits, pulse_us):
        if not self.present:
            return
        self.taps_recognised += 1
        single = bool(bits & 0x20)
        self.all_int_src |= 0x04 if single else 0x08
        routed = self.regs[_MD1_CFG] & (0x40 if single else 0x08)
        if self._latched():
            self.tap_src |= bits
            if routed:
                self._set_int1(True)
            return
        self.tap_src = bits
        if routed:
            self._set_int1(True)
        if self._pulse is not None:
            self._pulse.cancel()
        self._pulse = self.world.call_later_us(pulse_us, self._end_pulse)

    def _end_pulse(self):
        self._pulse = None
        if not self._latched():
            self.tap_src = 0
            self._set_int1(False)

    def _set_int1(self, active):
        self.int1_active = active
        self._drive_int1()

    def _drive_int1(self):
        if self.int1_gpio is None:
            return
        active_low = bool(self.regs[_CTRL3_C] & 0x20)
        self.world.drive_pin(self.int1_gpio, int(self.int1_active) ^ int(active_low))

    # ---- high-level side -------------------------------------------------------------------
    def _motion(self, axis, cycles, freq_hz, amp_deg, label):
        t = self.world.now_us()
        self._prune(t)
        self.motions.append(_Motion(axis, t, cycles, freq_hz, amp_deg))
        self.note("%s: %.0f deg at %.1f Hz for %.2f s" % (label, amp_deg, freq_hz,
                                                          cycles / freq_hz))

    def nod(self, cycles=2, freq_hz=2.0, amp_deg=15.0):
        """Head nod: pitch oscillation (gyro y)."""
        self._motion(1, cycles, freq_hz, amp_deg, "nod")

    def shake(self, cycles=2, freq_hz=2.5, amp_deg=25.0):
        """Head shake: yaw oscillation (gyro z)."""
        self._motion(2, cycles, freq_hz, amp_deg, "shake")

    def tilt(self, cycles=1, freq_hz=1.0, amp_deg=20.0):
        """Head tilt: roll oscillation (gyro x)."""
        self._motion(0, cycles, freq_hz, amp_deg, "tilt")

    def tap(self, axis="y", g=2.0, sign=1):
        """A knock on the temple: an acceleration impulse and the tap engine's verdict."""
        t = self.world.now_us()
        ax = _AXES.index(axis)
        self._prune(t)
        self.impulses.append((t, ax, g, sign))
        self._recognise(t, ax, g, sign)

    def double_tap(self, gap_ms=250, **kw):
        self.tap(**kw)
        self.world.call_later_us(gap_ms * 1000, lambda: self.tap(**kw))

    def describe(self):
        t = self.world.now_us()
        moving = any(m.end > t for m in self.motions)
        return "xl %s Hz, gyro %s Hz%s%s" % (self.xl_odr(), self.gyro_odr(),
                                             ", moving" if moving else "",
                                             ", INT1 high" if self.int1_active else "")
