# Drivers against a register-level bus double. Runs under CPython (pytest) and MicroPython.
from fakebus import FakeI2C, FakePin
from fwtest import raises

from firmware.drivers import PartNotFound
from firmware.drivers.led import Led
from firmware.drivers.lsm6dsox import LSM6DSOX, TAP_DOUBLE, TAP_NONE, TAP_SINGLE
from firmware.drivers.max17048 import MAX17048, STATUS_RI
from firmware.drivers.touch import TouchSensor
from firmware.drivers.vcnl4040 import VCNL4040


def _near(a, b, tol):
    return abs(a - b) <= tol


def test_lsm6dsox_checks_its_id_with_a_clear_message():
    bus = FakeI2C()
    e = raises(PartNotFound, LSM6DSOX, bus, 0x6A)
    assert str(e) == ("LSM6DSOX not found at 0x6A: no answer on I2C (ENODEV); "
                      "check wiring"), str(e)
    bus.add(0x6A)  # something answers, but WHO_AM_I is 0x00
    e = raises(PartNotFound, LSM6DSOX, bus, 0x6A)
    assert str(e) == ("LSM6DSOX not found at 0x6A: WHO_AM_I read 0x00, expected 0x6C; "
                      "check wiring"), str(e)


def test_lsm6dsox_configures_and_reads_si_units():
    bus = FakeI2C()
    m = bus.add(0x6A, {0x0F: 0x6C})
    imu = LSM6DSOX(bus, 0x6A)
    imu.configure(accel_hz=100, accel_g=2, gyro_hz=26, gyro_dps=500)
    assert imu.accel_hz == 104 and imu.gyro_hz == 26
    assert m[0x10] == 0x40 and m[0x11] == 0x24, (hex(m[0x10]), hex(m[0x11]))
    assert m[0x12] == 0x44  # BDU + IF_INC
    m[0x28:0x2E] = bytes((0, 0, 0, 0, 0x00, 0x40))  # z = 16384 LSB at 0.061 mg/LSB
    x, y, z = imu.accel()
    assert x == 0 and y == 0 and _near(z, 16384 * 0.061e-3 * 9.80665, 1e-6), z
    m[0x22:0x28] = bytes((0xE8, 0x03, 0x18, 0xFC, 0, 0))  # +1000, -1000 LSB at 17.5 mdps
    gx, gy, gz = imu.gyro()
    assert _near(gx, 17.5, 1e-9) and _near(gy, -17.5, 1e-9) and gz == 0
    raises(ValueError, imu.configure, 104, 3)


def test_lsm6dsox_tap_engine_settings_and_source():
    bus = FakeI2C()
    m = bus.add(0x6A, {0x0F: 0x6C})
    pin = FakePin()
    imu = LSM6DSOX(bus, 0x6A, int1=pin)
    imu.enable_taps(threshold_g=0.5, double=True)
    assert imu.accel_hz == 416  # the tap engine needs >= 416 Hz
    assert m[0x56] == 0x4F and m[0x57] == 8 and m[0x58] == 0x88 and m[0x59] == 8
    assert m[0x5A] == 0x7F and m[0x5B] == 0x80 and m[0x5E] == 0x48
    got = []
    imu.on_int1(lambda p: got.append(p))
    assert pin.trigger == FakePin.IRQ_RISING
    pin.fire()
    assert got == [pin]
    m[0x1C] = 0x61
    assert imu.read_tap() == TAP_SINGLE
    m[0x1C] = 0x51
    assert imu.read_tap() == TAP_DOUBLE
    m[0x1C] = 0
    assert imu.read_tap() == TAP_NONE
    raises(ValueError, LSM6DSOX(bus, 0x6A).on_int1, print)  # INT1 not wired


def test_lsm6dsox_reinit_restores_configuration_after_power_loss():
    bus = FakeI2C()
    m = bus.add(0x6A, {0x0F: 0x6C})
    imu = LSM6DSOX(bus, 0x6A)
    imu.configure(accel_hz=416, accel_g=4, gyro_hz=52, gyro_dps=1000)
    imu.enable_taps(0.6, double=False)
    m[:] = bytes(256)  # the part lost power: registers back to 0
    m[0x0F] = 0x6C
    imu.init()
    assert m[0x10] == 0x68 and m[0x11] == 0x38 and m[0x5E] == 0x40, (m[0x10], m[0x11])


def test_vcnl4040_id_proximity_and_flags():
    bus = FakeI2C()
    e = raises(PartNotFound, VCNL4040, bus)
    assert "VCNL4040 not found at 0x60: no answer on I2C (ENODEV)" in str(e), str(e)
    bus.add(0x60, words=True)
    bus.set_word(0x60, 0x0C, 0x0286)
    e = raises(PartNotFound, VCNL4040, bus)
    assert "ID read 0x286, expected 0x186" in str(e), str(e)
    bus.set_word(0x60, 0x0C, 0x0186)
    prox = VCNL4040(bus)
    prox.enable_proximity(led_ma=50, duty=320, it=2, high_res=True)
    assert bus.word(0x60, 0x03) == 0x08C4  # duty 1/320, IT 2T, PS on, PS_HD
    assert bus.word(0x60, 0x04) == 0  # LED 50 mA
    bus.set_word(0x60, 0x08, 0x1234)
    assert prox.proximity() == 0x1234
    prox.set_thresholds(100, 900)
    assert bus.word(0x60, 0x06) == 100 and bus.word(0x60, 0x07) == 900
    assert bus.word(0x60, 0x03) == 0x0BC4  # PS_INT: close and away
    bus.set_word(0x60, 0x0B, 0x0200)  # INT_Flag: PS_IF_CLOSE
    assert prox.flags() == (True, False)
    raises(ValueError, prox.enable_proximity, 60)
    raises(ValueError, prox.set_thresholds, 900, 100)
    raises(ValueError, prox.lux)
    prox.enable_light(160)
    bus.set_word(0x60, 0x09, 2000)
    assert prox.lux() == 100.0


def test_max17048_readings_and_reset_indicator():
    bus = FakeI2C()
    e = raises(PartNotFound, MAX17048, bus)
    assert "MAX17048 not found at 0x36" in str(e)
    m = bus.add(0x36, {0x09: 0x12, 0x0C: 0x97, 0x0D: 0x1C, 0x1A: STATUS_RI})
    g = MAX17048(bus)
    assert g.version == 0x12 and g.resets == 1
    assert m[0x1A] == 0  # RI cleared
    m[0x02], m[0x03] = 0xC8, 0x00  # 0xC800 * 78.125 uV = 4.0 V
    assert _near(g.voltage(), 4.0, 1e-9)
    m[0x04], m[0x05] = 55, 128  # 55.5 %
    assert g.soc() == 55.5
    m[0x16], m[0x17] = 0xFF, 0xF6  # -10 LSB
    assert _near(g.charge_rate(), -2.08, 1e-9)
    g.set_alert_threshold(10)
    assert m[0x0D] == 32 - 10
    raises(ValueError, g.set_alert_threshold, 40)


def test_bus_errors_reach_the_caller_as_oserror():
    bus = FakeI2C()
    bus.add(0x36, {0x09: 0x12})
    g = MAX17048(bus)
    bus.fail_next = 1
    e = raises(OSError, g.soc)
    assert e.args[0] == 5


class _Pad:
    def __init__(self, v):
        self.v = v

    def read(self):
        return self.v


def test_touch_threshold_hysteresis_and_drift():
    pad = _Pad(30000)
    t = TouchSensor(pad, rises=True, threshold_pct=10, hysteresis_pct=3)
    assert t.calibrate() == 30000
    pad.v = 30500
    assert not t.update() and t.baseline > 30000  # slow drift is followed
    pad.v = 34000
    assert t.update() and t.touched
    pad.v = 32500  # between release (7 %) and touch (10 %): still touched
    assert not t.update() and t.touched
    pad.v = 30100
    assert t.update() and not t.touched
    falling = TouchSensor(_Pad(500), rises=False)
    falling.calibrate()
    falling.pad.v = 400
    assert falling.update() and falling.touched
    raises(ValueError, TouchSensor, pad, True, 5, 5)


def test_led_active_low():
    pin = FakePin()
    led = Led(pin, active_low=True)
    assert pin.level == 1 and not led.is_on()
    led.on()
    assert pin.level == 0 and led.is_on()
    led.toggle()
    assert pin.level == 1
