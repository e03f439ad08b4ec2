"""Virtual Maxim MAX17048 fuel gauge at register level.

Bus side (datasheet 19-6171): 16-bit registers, big-endian, at even addresses, with a
byte-wise auto-incrementing pointer; a read transfer latches the values first.
0x02 VCELL (78.125 uV/LSB), 0x04 SOC (1/256 %/LSB), 0x06 MODE (write: 0x4000 quick-start),
0x08 VERSION (0x0012), 0x0A HIBRT, 0x0C CONFIG (RCOMP, SLEEP, ALSC, ALRT, ATHD:
alert below 32-ATHD %), 0x14 VALRT (MIN/MAX, 20 mV/LSB), 0x16 CRATE (0.208 %/h per LSB,
signed), 0x18 VRESET/ID, 0x1A STATUS (RI, VH, VL, VR, HD, SC, ENVR in the high byte; write 0
to clear), 0xFE CMD (0x5400: power-on reset).

The cell it measures is the world's battery (sim/devices/battery.py); its SOC estimate
follows the battery's true state of charge closely (ModelGauge converges within minutes on a
real cell; that error is not modelled).
"""
from sim.devices.base import RegisterPart

VERSION_VALUE = 0x0012
_VCELL = 0x02
_SOC = 0x04
_MODE = 0x06
_VERSION = 0x08
_HIBRT = 0x0A
_CONFIG = 0x0C
_VALRT = 0x14
_CRATE = 0x16
_VRESET = 0x18
_STATUS = 0x1A
_CMD = 0xFE


class MAX17048(RegisterPart):
    kind = "max17048"
    RESET = {_VERSION: 0x00, _VERSION + 1: VERSION_VALUE & 0xFF, _HIBRT: 0x80,
             _HIBRT + 1: 0x30, _CONFIG: 0x97, _CONFIG + 1: 0x1C, _VALRT: 0x00,
             _VALRT + 1: 0xFF, _VRESET: 0x96, _STATUS: 0x01}  # STATUS.RI set at power-up
    ACTIVE_MA = 0.023

    @classmethod
    def wire(cls, world, name, spec, **options):
        bus = world.data["i2c"]
        part = cls(world, name, spec.get("addr", 0x36), **options)
        world.attach_i2c(bus["scl"], bus["sda"], part)
        return part

    def __init__(self, world, name, addr=0x36):
        self._last_soc_pct = None
        super().__init__(world, name, addr)
        world.power.set_adder(name, self.ACTIVE_MA)

    def power_on_reset(self):
        super().power_on_reset()
        self._last_soc_pct = None

    def _get16(self, reg):
        return (self.regs[reg] << 8) | self.regs[reg + 1]

    def _put16(self, reg, v):
        self.regs[reg] = (v >> 8) & 0xFF
        self.regs[reg + 1] = v & 0xFF

    def write_reg(self, reg, value):
        if reg in (_VCELL, _VCELL + 1, _SOC, _SOC + 1, _VERSION, _VERSION + 1,
                   _CRATE, _CRATE + 1):
            return  # read-only
        self.regs[reg] = value
        if reg == _CMD + 1 and self._get16(_CMD) == 0x5400:
            self.note("power-on reset command")
            self.power_on_reset()
        elif reg == _MODE + 1 and self._get16(_MODE) & 0x4000:
            self.regs[_MODE] = self.regs[_MODE + 1] = 0  # quick-start: re-estimate now

    def refresh(self):
        bat = self.world.battery
        volts = bat.voltage()
        soc_pct = bat.gauge_soc() * 100.0
        self._put16(_VCELL, min(0xFFFF, int(volts / 78.125e-6)))
        self._put16(_SOC, min(0xFFFF, int(soc_pct * 256)))
        crate = int(round(bat.crate_pct_per_h() / 0.208))
        self._put16(_CRATE, max(-32768, min(32767, crate)) & 0xFFFF)
        self._alerts(volts, soc_pct)

    def _alerts(self, volts, soc_pct):
        status = self.regs[_STATUS]
        cfg = self.regs[_CONFIG + 1]
        vmin, vmax = self.regs[_VALRT] * 0.02, self.regs[_VALRT + 1] * 0.02
        if volts < vmin:
            status |= 0x04  # VL
        if volts > vmax:
            status |= 0x02  # VH
        athd = 32 - (cfg & 0x1F)
        whole = int(soc_pct)
        if soc_pct < athd and (self._last_soc_pct is None or self._last_soc_pct >= athd):
            status |= 0x10  # HD: SOC crossed below the alert threshold
        if cfg & 0x40 and self._last_soc_pct is not None and whole != int(self._last_soc_pct):
            status |= 0x20  # SC: 1 % change
        self._last_soc_pct = soc_pct
        if status & 0x3E and status != self.regs[_STATUS]:
            self.regs[_CONFIG + 1] = cfg | 0x20  # ALRT
        self.regs[_STATUS] = status

    def describe(self):
        return "SOC %.1f%%" % (self.world.battery.gauge_soc() * 100)
