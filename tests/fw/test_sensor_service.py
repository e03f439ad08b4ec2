# The sensor service with real drivers over a register-bus double, in virtual time.
# Runs under CPython (pytest) and MicroPython.
from fakebus import FakeI2C, FakePin
from fwtest import raises, virtual_scheduler

from firmware.drivers.lsm6dsox import LSM6DSOX
from firmware.drivers.max17048 import MAX17048
from firmware.drivers.touch import TouchSensor
from firmware.drivers.vcnl4040 import VCNL4040
from firmware.runtime import sched as S
from firmware.sense.sampling import ABSENT, OK, SensorService


class _Board:
    pass


class _Pad:
    def __init__(self):
        self.v = 30000
        self.broken = False

    def read(self):
        if self.broken:
            raise ValueError("Touch pad error")  # what the esp32 port raises
        return self.v


def _rig(with_imu=True):
    bus = FakeI2C()
    b = _Board()
    b.imu = b.prox = b.gauge = None
    pin = FakePin()
    if with_imu:
        bus.add(0x6A, {0x0F: 0x6C})
        b.imu = LSM6DSOX(bus, 0x6A, int1=pin)
    bus.add(0x60, words=True)
    bus.set_word(0x60, 0x0C, 0x0186)
    b.prox = VCNL4040(bus)
    bus.add(0x36, {0x09: 0x12, 0x04: 80})
    b.gauge = MAX17048(bus)
    pad = _Pad()
    t = TouchSensor(pad)
    t.calibrate()
    b.touch = (t,)
    return bus, b, pin, pad


def test_samples_taps_and_a_part_that_stops_answering():
    bus, board, pin, pad = _rig()
    s = virtual_scheduler(seed=3)
    clock = s.clock
    ev = []

    def at(tag):
        return lambda *a: ev.append((clock.elapsed_ms(), tag) + a)

    svc = SensorService(s, board, on_tap=at("tap"), on_gyro=at("gyro"), on_prox=at("prox"),
                        on_battery=at("bat"), on_touch=at("touch"), on_fault=at("fault"),
                        gyro_hz=10, prox_ms=100, gauge_ms=500, touch_ms=50).start()

    async def world():  # what happens around the glasses
        await S.sleep_ms(500)
        bus.mem[0x6A][0x1C] = 0x61  # the IMU's tap engine saw a single tap
        pin.fire()
        await S.sleep_ms(200)
        pad.v = 36000  # finger on the pad
        await S.sleep_ms(300)
        saved = bus.mem.pop(0x6A)  # t = 1000: the IMU stops answering
        await S.sleep_ms(5000)
        bus.mem[0x6A] = saved  # t = 6000: back

    s.spawn(world, prio=S.PRIO_AUDIO)
    s.run(until_ms=10000)
    taps = [e for e in ev if e[1] == "tap"]
    assert taps == [(500, "tap", "single")], taps
    assert [e[:4] for e in ev if e[1] == "touch"] == [(700, "touch", 0, True)]
    faults = [(e[0], e[2], e[3]) for e in ev if e[1] == "fault"]
    # detected at the first read after 1000 ms; retried after 250, 500, 1000, 2000, 4000 ms
    assert faults == [(1000, "imu", "I/O error ENODEV"), (8750, "imu", None)], faults
    assert svc.retries == 5 and svc.status["imu"] == OK
    prox = [e[0] for e in ev if e[1] == "prox"]
    assert len([t for t in prox if 1000 < t < 8750]) == 77  # every 100 ms, unaffected
    gyro = [e[0] for e in ev if e[1] == "gyro"]
    assert not [t for t in gyro if 1000 < t < 8750], "no gyro samples while faulty"
    assert len([t for t in gyro if t >= 8750]) == 13  # 10 Hz again after recovery
    bats = [e for e in ev if e[1] == "bat"]
    assert len(bats) == 20 and bats[0][2] == 80.0


def test_an_absent_part_is_reported_and_the_rest_runs():
    bus, board, pin, pad = _rig(with_imu=False)
    s = virtual_scheduler(seed=4)
    n = []
    svc = SensorService(s, board, on_prox=lambda c, t: n.append(c), prox_ms=200).start()
    s.run(until_ms=1000)
    assert svc.status["imu"] == ABSENT and svc.status["prox"] == OK
    assert len(n) == 5
    assert sorted(t.name for t in s.tasks) == ["gauge", "prox", "touch"]


def test_gyro_rate_changes_at_run_time():
    bus, board, pin, pad = _rig()
    s = virtual_scheduler(seed=5)
    clock = s.clock
    times = []
    svc = SensorService(s, board, on_gyro=lambda x, y, z, t: times.append(clock.elapsed_ms()),
                        gyro_hz=0).start()

    async def control():
        await S.sleep_ms(1000)
        svc.set_gyro_hz(20)
        await S.sleep_ms(1000)
        svc.set_gyro_hz(0)

    s.spawn(control)
    s.run(until_ms=3000)
    assert times and min(times) >= 1000 and max(times) < 2050, times
    assert 19 <= len(times) <= 21, len(times)
    assert bus.mem[0x6A][0x11] >> 4 == 0  # gyro powered down again


def test_a_part_gone_before_the_service_starts_is_recovered():
    bus, board, pin, pad = _rig()
    saved = bus.mem.pop(0x60)  # the proximity sensor vanished after build()
    s = virtual_scheduler(seed=6)
    clock = s.clock
    faults = []
    counts = []
    svc = SensorService(s, board, prox_ms=100,
                        on_fault=lambda p, why: faults.append((clock.elapsed_ms(), p, why)),
                        on_prox=lambda c, t: counts.append(c)).start()

    async def back():
        await S.sleep_ms(600)
        bus.mem[0x60] = saved

    s.spawn(back)
    s.run(until_ms=1500)
    assert faults == [(0, "prox", "VCNL4040 not found at 0x60: no answer on I2C (ENODEV); "
                       "check wiring"), (750, "prox", None)], faults
    assert svc.status["prox"] == OK and len(counts) == 8  # 750, 850, ... 1450
    assert bus.word(0x60, 0x03) & 1 == 0  # the setup ran again: proximity on


def test_polling_periods_change_at_run_time():
    bus, board, pin, pad = _rig(with_imu=False)
    s = virtual_scheduler(seed=7)
    clock = s.clock
    prox_t = []
    touch_reads = []
    svc = SensorService(s, board, prox_ms=1000, touch_ms=100,
                        on_prox=lambda c, t: prox_t.append(clock.elapsed_ms())).start()
    orig = board.touch[0].update

    def counted():
        touch_reads.append(clock.elapsed_ms())
        return orig()
    board.touch[0].update = counted

    async def control():
        await S.sleep_ms(2550)
        svc.set_period_ms("prox", 250)  # from the reading at 3000 on
        svc.set_period_ms("touch", 500)

    s.spawn(control)
    s.run(until_ms=4100)
    assert prox_t == [0, 1000, 2000, 3000, 3250, 3500, 3750, 4000], prox_t
    assert svc.period_ms("prox") == 250 and svc.period_ms("gauge") == 5000
    late = [t for t in touch_reads if t > 2600]
    assert late == [3100, 3600], late  # the read at 2600 is the last at 100 ms
    e = raises(ValueError, svc.set_period_ms, "imu", 100)
    assert "no polling period for part 'imu'" in str(e)
    assert "whole number of ms > 0" in str(raises(ValueError, svc.set_period_ms, "prox", 0))


def test_a_touch_channel_error_is_a_fault_and_recovers():
    bus, board, pin, pad = _rig(with_imu=False)
    s = virtual_scheduler(seed=8)
    clock = s.clock
    faults = []
    svc = SensorService(s, board, touch_ms=100,
                        on_fault=lambda p, why: faults.append((clock.elapsed_ms(), p, why))
                        ).start()

    async def script():
        await S.sleep_ms(250)
        pad.broken = True  # the read at 300 fails; the retries at +250, +500 fail too
        await S.sleep_ms(900)
        pad.broken = False

    s.spawn(script)
    s.run(until_ms=3000)
    assert faults == [(300, "touch", "I/O error EIO"), (2050, "touch", None)], faults
    assert svc.status["touch"] == OK and svc.retries == 3
