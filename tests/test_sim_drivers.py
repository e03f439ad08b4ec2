"""Each driver against its virtual part, through the `machine` mirror: chip id, readings
in SI units, the IMU's tap interrupt, thresholds, missing parts."""
import math

import pytest

import machine
from firmware.drivers import PartNotFound
from firmware.drivers.lsm6dsox import LSM6DSOX, TAP_DOUBLE, TAP_NONE, TAP_SINGLE
from firmware.drivers.max17048 import MAX17048, STATUS_HD
from firmware.drivers.touch import TouchSensor
from firmware.drivers.vcnl4040 import VCNL4040
from sim import boards
from simutil import run_for, world


def i2c():
    bus = boards.load("xiao_esp32s3_sense").DATA["i2c"]  # the sensors' bus (the camera's SCCB)
    return machine.I2C(0, scl=machine.Pin(bus["scl"]), sda=machine.Pin(bus["sda"]))


def test_imu_at_rest_and_nodding():
    with world(seed=4) as w:
        imu = LSM6DSOX(i2c(), 0x6A, int1=machine.Pin(1, machine.Pin.IN))
        imu.configure(accel_hz=104, accel_g=2, gyro_hz=104, gyro_dps=500)
        ax, ay, az = imu.accel()
        assert abs(az - 9.81) < 0.1 and abs(ax) < 0.1 and abs(ay) < 0.1  # gravity, m/s^2
        assert all(abs(g) < 1.5 for g in imu.gyro())  # zero-rate level + noise, dps
        w.part("imu").nod(cycles=2, freq_hz=2.0, amp_deg=15.0)
        peak = 0.0
        for _ in range(100):
            run_for(w, 0.01)
            peak = max(peak, abs(imu.gyro()[1]))
        expected = 15.0 * 2 * math.pi * 2.0  # pitch rate amplitude, dps
        assert expected * 0.9 < peak < expected * 1.05, peak
        run_for(w, 0.2)
        assert abs(imu.gyro()[1]) < 1.5  # the nod is over


def test_imu_tap_engine_raises_int1_and_latches_tap_src():
    with world(seed=5) as w:
        part = w.part("imu")
        pin = machine.Pin(1, machine.Pin.IN)
        imu = LSM6DSOX(i2c(), 0x6A, int1=pin)
        irqs = []
        imu.on_int1(lambda p: irqs.append(w.now_us()))
        part.tap(g=2.0)
        run_for(w, 0.2)
        assert irqs == [] and part.taps_missed == 1  # taps off: nothing recognised
        imu.enable_taps(threshold_g=0.6, double=False)
        part.tap(axis="y", g=0.4)
        run_for(w, 0.2)
        assert irqs == [] and "below threshold" in w.lines[-1]
        t0 = w.now_us()
        part.tap(axis="y", g=2.0)
        run_for(w, 0.2)
        assert len(irqs) == 1 and 0 < irqs[0] - t0 <= 60000  # after the shock window
        assert pin.value() == 1  # latched until TAP_SRC is read
        part.tap(axis="z", g=2.0)  # a second tap while latched: no new edge
        run_for(w, 0.2)
        assert len(irqs) == 1
        assert imu.read_tap() == TAP_SINGLE and pin.value() == 0
        assert imu.read_tap() == TAP_NONE


def test_imu_double_tap_reports_single_then_double():
    with world(seed=6) as w:
        part = w.part("imu")
        imu = LSM6DSOX(i2c(), 0x6A, int1=machine.Pin(1, machine.Pin.IN))
        kinds = []
        imu.on_int1(lambda p: kinds.append(imu.read_tap()))
        imu.enable_taps(threshold_g=0.6, double=True)
        part.double_tap(gap_ms=200)
        run_for(w, 0.6)
        assert kinds == [TAP_SINGLE, TAP_DOUBLE]
        part.double_tap(gap_ms=900)  # too slow for the DUR window: two singles
        run_for(w, 1.5)
        assert kinds[2:] == [TAP_SINGLE, TAP_SINGLE]


def test_imu_sw_reset_and_power_cycle_clear_the_configuration():
    with world() as w:
        imu = LSM6DSOX(i2c(), 0x6A)
        imu.configure(accel_hz=416, gyro_hz=52)
        part = w.part("imu")
        assert part.xl_odr() == 416 and part.gyro_odr() == 52
        part.disconnect()
        with pytest.raises(OSError):
            imu.gyro()
        part.reconnect()
        assert part.xl_odr() == 0  # lost its registers
        imu.init()
        assert part.xl_odr() == 416 and part.gyro_odr() == 52


def test_proximity_worn_and_thresholds():
    with world(seed=7) as w:
        prox = VCNL4040(i2c(), 0x60)
        assert prox.proximity() == 0  # PS is shut down at reset
        prox.enable_proximity(led_ma=50, duty=320, it=2, high_res=True)
        run_for(w, 0.05)
        off = prox.proximity()
        w.part("prox").put_on()
        run_for(w, 0.05)
        on = prox.proximity()
        assert off < 100 < 1000 < on, (off, on)
        prox.set_thresholds(400, 800)
        assert prox.flags() == (False, False)
        w.part("prox").take_off()
        run_for(w, 0.05)
        w.part("prox").put_on()
        run_for(w, 0.05)
        assert prox.flags() == (True, False)
        w.part("prox").take_off()
        run_for(w, 0.05)
        assert prox.flags() == (False, True)
        prox.enable_light(80)
        w.part("prox").set_lux(300)
        assert prox.lux() == pytest.approx(300, abs=0.1)


def test_fuel_gauge_follows_the_battery_and_alerts():
    with world(seed=8) as w:
        g = MAX17048(i2c(), 0x36)
        assert g.resets == 1  # the gauge came up fresh: RI was set and is now cleared
        assert g.soc() == pytest.approx(80.0, abs=0.01)
        assert 3.9 < g.voltage() < 4.05
        assert g.charge_rate() < 0  # the board draws current
        g.set_alert_threshold(10)
        w.battery.set_soc(9.5)
        g.soc()
        assert g.status() & STATUS_HD
        w.battery.set_charging(True)
        net_ma = 100 - w.power.current_ma()  # the charger's 100 mA minus the board's draw
        assert g.charge_rate() == pytest.approx(net_ma / 500 * 100, abs=0.21)  # %/h, 1 LSB
        before = g.soc()
        run_for(w, 360)  # 6 minutes
        assert g.soc() - before == pytest.approx(net_ma * 0.1 / 500 * 100, abs=0.01)


def test_touch_sensor_sees_a_finger():
    with world(seed=9) as w:
        pad = TouchSensor(machine.TouchPad(machine.Pin(3)), rises=True)
        pad.calibrate()
        assert not pad.update()
        w.parts["touch0"].touch(0.2)
        assert pad.update() and pad.touched
        run_for(w, 0.3)
        assert pad.update() and not pad.touched


def test_missing_parts_are_none_with_a_reason_and_the_rest_works():
    with world(skip=("imu", "gauge")) as w:
        b = boards.load("xiao_esp32s3_sense").build(store_root=w.flash_dir)
        assert b.imu is None and b.gauge is None
        assert b.missing["imu"] == ("PartNotFound: LSM6DSOX not found at 0x6A: no answer on "
                                    "I2C (ENODEV); check wiring")
        assert "MAX17048 not found at 0x36" in b.missing["gauge"]
        assert b.prox is not None and len(b.touch) == 2 and b.led is not None
        with pytest.raises(PartNotFound):
            VCNL4040(i2c(), 0x61)  # a wrong address: nobody there
