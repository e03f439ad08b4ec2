# MicroPython's `machine`, as much of it as the firmware uses, over the world (world.py):
# pins with IRQs, I2C buses of register files (the parts answer their ID registers),
# PWM, touch pads, the watchdog, I2S in non-blocking (irq) mode at 16 kHz in virtual
# time, lightsleep. A file named machine.py on sys.path takes the place of the built-in
# (`machine` is one of MicroPython's extensible modules).
from fakebus import FakePin
from world import W, WorldError

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

_FRAME_US = 20000  # one 20 ms frame of 16 kHz 16-bit mono: 640 bytes


class ResetCalled(WorldError):
    """machine.reset() or deepsleep(): the firmware restarted the board."""


def reset_cause():
    return PWRON_RESET


def unique_id():
    return b"\x30\xae\xa4\x12\x6b\x5c"


def freq(hz=None):
    return 160000000 if hz is None else None


def lightsleep(ms=-1):
    W.idle(ms, sleeping=True)


def idle():
    W.idle(-1)


def reset():
    raise ResetCalled("machine.reset()")


def deepsleep(ms=-1):
    raise ResetCalled("machine.deepsleep(%d)" % ms)


class Pin(FakePin):
    """tests/fw/fakebus.py's pin (level, irq handler, fire()), by id in the world."""
    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    PULL_UP = 1
    PULL_DOWN = 2

    def __init__(self, id, mode=-1, pull=-1, value=None):
        FakePin.__init__(self)
        self.id = id
        self.init(mode, pull, value)
        W.pins[id] = self

    def init(self, mode=-1, pull=-1, value=None):
        if value is not None:
            self.level = 1 if value else 0

    def irq(self, handler=None, trigger=3, hard=False, wake=None):
        FakePin.irq(self, handler, trigger, hard)


class Part:
    """A part's registers: byte-addressed with auto-increment, or (words=True) 16-bit
    registers by command code, LSB first (the VCNL4040)."""

    def __init__(self, regs=None, words=False):
        self.mem = bytearray(512 if words else 256)
        self.words = words
        for reg, val in (regs or {}).items():
            self.put(reg, val)

    def put(self, reg, value):
        if self.words:
            self.mem[2 * reg] = value & 0xFF
            self.mem[2 * reg + 1] = value >> 8
        else:
            self.mem[reg] = value

    def readinto(self, reg, buf):
        base = 2 * reg if self.words else reg
        m = self.mem
        for i in range(len(buf)):
            buf[i] = m[(base + i) & (len(m) - 1)]

    def write(self, reg, buf):
        base = 2 * reg if self.words else reg
        m = self.mem
        for i in range(len(buf)):
            m[(base + i) & (len(m) - 1)] = buf[i]


class I2C:
    def __init__(self, id, scl=None, sda=None, freq=400000):
        self.id = id

    def _part(self, addr):
        p = W.parts.get((self.id, addr))
        if p is None:
            raise OSError(19)  # ENODEV: nothing acknowledged the address
        return p

    def readfrom_mem_into(self, addr, reg, buf, addrsize=8):
        self._part(addr).readinto(reg, buf)

    def readfrom_mem(self, addr, reg, n, addrsize=8):
        b = bytearray(n)
        self._part(addr).readinto(reg, b)
        return b

    def writeto_mem(self, addr, reg, buf, addrsize=8):
        self._part(addr).write(reg, buf)

    def scan(self):
        return sorted(a for (i, a) in W.parts if i == self.id)


class PWM:
    def __init__(self, pin, freq=1000, duty_u16=0):
        self.pin = pin
        self._freq = freq
        self._duty = duty_u16

    def duty_u16(self, v=None):
        if v is None:
            return self._duty
        if v and not self._duty:
            W.haptic_on += 1
        self._duty = v
        return None

    def freq(self, hz=None):
        if hz is None:
            return self._freq
        self._freq = hz
        return None

    def deinit(self):
        self._duty = 0


class TouchPad:
    def __init__(self, pin):
        self.pin = pin.id if isinstance(pin, Pin) else pin

    def read(self):
        return W.touch.get(self.pin, 30000)


class WDT:
    def __init__(self, id=0, timeout=5000):
        W.wdt_timeout_us = timeout * 1000
        W.wdt_fed_us = W.us

    def feed(self):
        W.wdt_fed_us = W.us


class I2S:
    """RX: a 20 ms frame arrives every 20 ms into a driver buffer of ibuf bytes; a
    readinto(buf) completes (its handler runs) once a frame is there. TX: write(buf) is
    taken into a driver buffer that drains at 16 kHz; the handler runs once it is taken."""
    RX = 0
    TX = 1
    MONO = 0
    STEREO = 1

    def __init__(self, id, sck=None, ws=None, sd=None, mode=0, bits=16, format=0,
                 rate=16000, ibuf=8192):
        self.mode = mode
        self.frames_max = ibuf // 640 if ibuf >= 640 else 1
        self.handler = None
        self.buf = None  # the outstanding readinto / write
        self.queued = 0  # frames in the driver buffer
        self.at = W.us + _FRAME_US  # next frame in (RX) or out (TX)
        self.dropped = 0
        W.add(self)

    def irq(self, handler):
        self.handler = handler

    def readinto(self, buf):
        if self.handler is None:
            raise WorldError("the firmware reads I2S in blocking mode")
        self.buf = buf
        return 0

    def write(self, buf):
        if self.handler is None:
            raise WorldError("the firmware writes I2S in blocking mode")
        self.buf = buf
        if self.queued == 0:
            self.at = W.us  # taken at once
        return 0

    def deinit(self):
        self.handler = None
        self.buf = None
        W.remove(self)

    def next_us(self):
        if self.mode == I2S.TX and self.buf is None and self.queued == 0:
            return None
        return self.at

    def fire(self, now):
        if self.mode == I2S.RX:
            return self._rx(now)
        return self._tx(now)

    def _rx(self, now):
        while self.at <= now:
            self.at += _FRAME_US
            if self.queued < self.frames_max:
                self.queued += 1
            else:
                self.dropped += 1
        b = self.buf
        if b is None or not self.queued:
            return False
        self.queued -= 1
        self.buf = None
        src = W.mic_source
        if src is None:
            for i in range(len(b)):
                b[i] = 0
        else:
            src(b)
        self.handler(self)
        return True

    def _tx(self, now):
        while self.queued and self.at <= now:  # a frame played out
            self.queued -= 1
            W.speaker_frames += 1
            self.at += _FRAME_US
        b = self.buf
        if b is None or self.queued >= self.frames_max:
            if self.queued == 0:
                self.at = now + _FRAME_US
            return False
        self.buf = None
        for i in range(0, len(b), 64):
            if b[i]:
                W.speaker_loud += 1
                break
        if self.queued == 0:
            self.at = now + _FRAME_US
        self.queued += 1
        self.handler(self)
        return True
