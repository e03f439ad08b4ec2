"""Virtual Vishay VCNL4040 proximity + ambient light sensor at register level.

Bus side (datasheet rev. 1.x): 16-bit registers by command code, little-endian (LSB first):
write = [code, LSB, MSB]; read = write [code], repeated start, read LSB, MSB.
0x00 ALS_CONF (ALS_SD=1 at reset), 0x01/0x02 ALS thresholds, 0x03 PS_CONF1 (duty, IT,
PS_SD=1 at reset) / PS_CONF2 (PS_HD 16-bit, PS_INT), 0x04 PS_CONF3 / PS_MS (LED_I),
0x05 PS_CANC, 0x06/0x07 PS_THDL/PS_THDH, 0x08 PS_DATA, 0x09 ALS_DATA, 0x0A WHITE_DATA,
0x0B INT_Flag (high byte, cleared on read), 0x0C ID = 0x0186.

Counts come from a measurement every PS period (1/40 duty: 5 ms ... 1/320: 40 ms), scaled
by LED current and integration time, minus PS_CANC; 12-bit unless PS_HD. Close/away
flags follow the thresholds, evaluated at every measurement.

High-level side: `put_on()` / `take_off()` (worn: the temple is close to the skin),
`set_lux()`.
"""
from sim.devices.base import I2CPart, noise

ID_VALUE = 0x0186
_IT_T = (1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 8.0)
_LED_MA = (50, 75, 100, 120, 140, 160, 180, 200)
_DUTY = (40, 80, 160, 320)
_PERIOD_US = (5000, 10000, 20000, 40000)
_ALS_LUX_PER_STEP = (0.1, 0.05, 0.025, 0.0125)  # ALS_IT 80/160/320/640 ms
_RESET = {0x00: 0x0001, 0x03: 0x0001, 0x0C: ID_VALUE}


class VCNL4040(I2CPart):
    kind = "vcnl4040"
    WORN_COUNTS = 1100.0  # at 50 mA, 1T, 12-bit: skin a few mm from the sensor window
    OFF_COUNTS = 9.0  # crosstalk through the frame, nothing in front
    PS_SUPPLY_MA = 0.2
    ALS_SUPPLY_MA = 0.12

    @classmethod
    def wire(cls, world, name, spec, **options):
        bus = world.data["i2c"]
        part = cls(world, name, spec.get("addr", 0x60), **options)
        world.attach_i2c(bus["scl"], bus["sda"], part)
        return part

    def __init__(self, world, name, addr=0x60, worn=False, lux=150.0):
        super().__init__(world, name, addr)
        self.worn = worn
        self.lux = lux
        self.ptr = 0
        self.power_on_reset()

    def power_on_reset(self):
        self.regs = dict(_RESET)
        self.ptr = 0
        self.flags = 0
        self._last_close = None
        self._last_meas = -1
        self._update_power()

    # ---- bus side -------------------------------------------------------------------------
    def i2c_write(self, data):
        if not data:
            return
        self.ptr = data[0]
        if len(data) >= 3:
            self._write(self.ptr, data[1] | (data[2] << 8))

    def i2c_read(self, n):
        v = self._read(self.ptr)
        out = bytes((v & 0xFF, v >> 8))
        return (out * ((n + 1) // 2))[:n]

    def _write(self, code, value):
        if code in (0x08, 0x09, 0x0A, 0x0B, 0x0C) or code > 0x0C:
            return  # read-only or reserved
        self.regs[code] = value & 0xFFFF
        if code in (0x00, 0x03, 0x04):
            self._update_power()

    def _read(self, code):
        self._measure()
        if code == 0x08:
            return self._ps_counts(self._last_meas) if self.ps_on() else 0
        if code == 0x09:
            return self._als_counts() if self.als_on() else 0
        if code == 0x0A:
            return self._als_counts() * 2 // 3 if self.als_on() else 0
        if code == 0x0B:
            v = self.flags << 8
            self.flags = 0
            return v
        return self.regs.get(code, 0)

    # ---- configuration ---------------------------------------------------------------------
    def ps_on(self):
        return not self.regs.get(0x03, 1) & 0x0001

    def als_on(self):
        return not self.regs.get(0x00, 1) & 0x0001

    def _ps_period_us(self):
        return _PERIOD_US[(self.regs.get(0x03, 0) >> 6) & 3]

    def _update_power(self):
        ma = 0.0
        if self.ps_on():
            conf = self.regs.get(0x03, 0)
            led = _LED_MA[(self.regs.get(0x04, 0) >> 8) & 7]
            ma += self.PS_SUPPLY_MA + led / _DUTY[(conf >> 6) & 3]
        if self.als_on():
            ma += self.ALS_SUPPLY_MA
        self.world.power.set_adder(self.name, ma)

    # ---- physics ---------------------------------------------------------------------------
    def _ps_counts(self, k):
        conf = self.regs.get(0x03, 0)
        it = _IT_T[(conf >> 1) & 7]
        led = _LED_MA[(self.regs.get(0x04, 0) >> 8) & 7]
        base = self.WORN_COUNTS if self.worn else self.OFF_COUNTS
        c = base * it * led / 50.0 * (1.0 + 0.02 * noise(self.seed, k)) + 2 * noise(self.seed, -k)
        c -= self.regs.get(0x05, 0)
        top = 0xFFFF if conf & 0x0800 else 0x0FFF
        return max(0, min(top, int(c)))

    def _als_counts(self):
        step = _ALS_LUX_PER_STEP[(self.regs.get(0x00, 0) >> 6) & 3]
        return max(0, min(0xFFFF, int(self.lux / step)))

    def _measure(self):
        """Run the measurements due since the last look (flags follow each one)."""
        if not self.ps_on():
            return
        k = self.world.now_us() // self._ps_period_us()
        if k == self._last_meas:
            return
        self._last_meas = k
        self._evaluate(self._ps_counts(k))

    def _evaluate(self, counts):
        """Hysteresis on PS_THDH / PS_THDL: CLOSE when counts rise above THDH, AWAY when
        they then fall below THDL; each raises its flag if PS_INT enables it."""
        mode = (self.regs.get(0x03, 0) >> 8) & 3  # PS_INT: 1 close, 2 away, 3 both
        hi, lo = self.regs.get(0x07, 0), self.regs.get(0x06, 0)
        if not hi:
            return
        if not self._last_close and counts > hi:
            self._last_close = True
            if mode & 1:
                self.flags |= 0x02  # PS_IF_CLOSE
        elif self._last_close and counts < lo:
            self._last_close = False
            if mode & 2:
                self.flags |= 0x01  # PS_IF_AWAY

    # ---- high-level side -------------------------------------------------------------------
    def put_on(self):
        self._measure()
        self.worn = True
        self.note("glasses put on (skin in front of the sensor)")
        self._last_meas = -1
        self._measure()

    def take_off(self):
        self._measure()
        self.worn = False
        self.note("glasses taken off")
        self._last_meas = -1
        self._measure()

    def set_lux(self, lux):
        self.lux = lux

    def describe(self):
        return "%s, PS %s" % ("worn" if self.worn else "not worn",
                              "on" if self.ps_on() else "off")
