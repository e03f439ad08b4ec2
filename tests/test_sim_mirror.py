"""The `machine` mirror rejects what a real board rejects, the same way."""
import errno

import pytest

import machine
from sim.mirror.machine import SimReset
from sim.world import NoWorld
from simutil import run_for, world


def test_no_world_no_hardware():
    with pytest.raises(NoWorld, match="no simulated world is active"):
        machine.Pin(1)


def test_pins_the_chip_does_not_have():
    with world() as w:
        with pytest.raises(ValueError, match="^invalid pin$"):
            machine.Pin(22)  # the ESP32-S3 has no GPIO22..25
        with pytest.raises(ValueError, match='unknown named pin "D11"'):
            machine.Pin("D11")
        p = machine.Pin("D0", machine.Pin.OUT, value=1)
        assert p.value() == 1 and w.pin(1).level() == 1
        with pytest.raises(ValueError, match="invalid pin mode"):
            machine.Pin(1, 42)


def test_i2c_nack_bus_fault_and_scan():
    with world() as w:
        i2c = machine.I2C(0, scl=machine.Pin(39), sda=machine.Pin(40))  # the camera's SCCB
        assert i2c.scan() == [0x30, 0x36, 0x60, 0x6A]  # the OV2640 shares the bus
        buf = bytearray(1)
        with pytest.raises(OSError) as e:
            i2c.readfrom_mem_into(0x29, 0x00, buf)  # nobody at 0x29
        assert e.value.errno == errno.ENODEV == 19 and e.value.args[0] == 19
        w.part("imu").inject_bus_error(1)
        with pytest.raises(OSError) as e:
            i2c.readfrom_mem_into(0x6A, 0x0F, buf)
        assert e.value.errno == errno.EIO == 5
        i2c.readfrom_mem_into(0x6A, 0x0F, buf)  # the fault was one transfer
        assert buf[0] == 0x6C
        w.part("imu").disconnect()
        assert i2c.scan() == [0x30, 0x36, 0x60]
        wrong = machine.I2C(1, scl=machine.Pin(40), sda=machine.Pin(39))  # swapped wires
        assert wrong.scan() == []
        with pytest.raises(ValueError, match=r"I2C\(2\) doesn't exist"):
            machine.I2C(2, scl=machine.Pin(39), sda=machine.Pin(40))


def test_rp2_i2c_pins_i2s_pins_and_no_touchpad():
    with world("pico2w_dev"):
        with pytest.raises(ValueError, match="bad SCL pin"):
            machine.I2C(0, scl=machine.Pin(6), sda=machine.Pin(4))
        with pytest.raises(ValueError, match="bad SDA pin"):
            machine.I2C(0, scl=machine.Pin(5), sda=machine.Pin(3))
        with pytest.raises(ValueError, match=r"ws \(must be sck\+1\)"):
            machine.I2S(0, sck=machine.Pin(10), ws=machine.Pin(12), sd=machine.Pin(11),
                        mode=machine.I2S.RX, bits=16, format=machine.I2S.MONO, rate=16000,
                        ibuf=4000)
        with pytest.raises(AttributeError, match="TouchPad"):
            machine.TouchPad  # noqa: B018
        with pytest.raises(ValueError, match="WDT timeout too long"):
            machine.WDT(timeout=10000)
        assert machine.Pin("LED", machine.Pin.OUT).value() == 0


def test_touchpad_pins_and_values():
    with world() as w:
        with pytest.raises(ValueError, match="invalid pin for touchpad"):
            machine.TouchPad(machine.Pin(43))
        pad = machine.TouchPad(machine.Pin(3))
        idle = pad.read()
        w.parts["touch0"].press()
        assert pad.read() > idle * 1.1  # the ESP32-S3's raw value rises with a finger


def test_pin_irq_runs_the_handler_and_kicks_the_firmware():
    with world() as w:
        kicks = []

        class Driver:
            def kick(self):
                kicks.append(1)

        w.driver = Driver()
        got = []
        p = machine.Pin(1, machine.Pin.IN)
        p.irq(got.append, machine.Pin.IRQ_RISING)
        w.drive_pin(1, 1)
        w.drive_pin(1, 0)  # falling: not asked for
        w.drive_pin(1, 1)
        assert got == [p, p] and len(kicks) == 2
        p.irq(None)
        w.drive_pin(1, 0)
        w.drive_pin(1, 1)
        assert len(got) == 2


def test_peripherals_after_deinit_fail_like_micropython():
    with world() as w:
        pwm = machine.PWM(machine.Pin(2), freq=1000, duty_u16=1000)
        assert w.pwm[2] == (1000, 1000)
        pwm.deinit()
        assert 2 not in w.pwm
        with pytest.raises(ValueError, match="PWM is inactive"):
            pwm.duty_u16(5)
        with pytest.raises(ValueError, match="duty_u16 must be from 0 to 65535"):
            machine.PWM(machine.Pin(2), duty_u16=70000)
        i2s = machine.I2S(0, sck=machine.Pin(7), ws=machine.Pin(8), sd=machine.Pin(9),
                          mode=machine.I2S.RX, bits=16, format=machine.I2S.MONO, rate=16000,
                          ibuf=4000)
        with pytest.raises(ValueError, match="I2S not configured for write method"):
            i2s.write(bytearray(4))
        with pytest.raises(OSError):  # the same I2S unit twice
            machine.I2S(0, sck=machine.Pin(7), ws=machine.Pin(8), sd=machine.Pin(9),
                        mode=machine.I2S.RX, bits=16, format=machine.I2S.MONO, rate=16000,
                        ibuf=4000)
        i2s.deinit()
        with pytest.raises(ValueError, match="I2S port is not initialized"):
            i2s.readinto(bytearray(4))
        with pytest.raises(ValueError, match="invalid bits"):
            machine.I2S(0, sck=7, ws=8, sd=9, mode=machine.I2S.RX, bits=24,
                        format=machine.I2S.MONO, rate=16000, ibuf=4000)


def test_resets_sleep_and_identity():
    with world() as w:
        assert machine.reset_cause() == machine.PWRON_RESET
        assert len(machine.unique_id()) == 6
        with pytest.raises(ValueError, match="frequency must be one of"):
            machine.freq(100000000)
        machine.freq(80000000)
        assert machine.freq() == 80000000
        machine.lightsleep(100)
        assert w.power.state == "lightsleep"
        w.power.wake()
        with pytest.raises(SimReset):
            machine.reset()
        assert w.reset_request[0] == machine.SOFT_RESET  # esp32: a software reset
        w.reboot()
        assert machine.reset_cause() == machine.SOFT_RESET and w.boot_count == 2
        with pytest.raises(SimReset):
            machine.deepsleep(5000)
        assert w.power.state == "deepsleep" and w.reset_request == (
            machine.DEEPSLEEP_RESET, "deepsleep", 5000)


def test_watchdog_not_fed_records_a_reset():
    with world() as w:
        wdt = machine.WDT(timeout=2000)
        for _ in range(3):
            run_for(w, 1.5)
            wdt.feed()
        assert w.reset_request is None
        run_for(w, 2.5)
        assert w.reset_request[0] == machine.WDT_RESET and w.wdt_resets == 1
        assert any("watchdog expired" in line for line in w.lines)


def test_adc_reads_the_level_on_its_pin():
    with world() as w:
        with pytest.raises(ValueError, match="invalid pin"):
            machine.ADC(machine.Pin(43))
        adc = machine.ADC(machine.Pin(1), atten=machine.ADC.ATTN_11DB)
        w.analog[1] = 1.55
        assert adc.read_uv() == 1550000
        assert adc.read_u16() == int(1.55 / 3.1 * 65535)
        w.analog[1] = 5.0  # beyond the range: clipped
        assert adc.read_u16() == 65535


def test_i2s_shift_and_signal():
    from array import array
    with world() as w:
        buf = bytearray(array("h", [1000, -1000, 20000]).tobytes())
        machine.I2S.shift(buf=buf, bits=16, shift=-1)
        assert array("h", bytes(buf)).tolist() == [500, -500, 10000]
        machine.I2S.shift(buf, 16, 2)  # no saturation, as on the board
        assert array("h", bytes(buf)).tolist() == [2000, -2000, -25536]
        s = machine.Signal(machine.Pin(2, machine.Pin.OUT), invert=True)
        s.on()
        assert w.pin(2).level() == 0 and s.value() == 1
