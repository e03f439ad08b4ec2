"""Mirror of MicroPython's `machine` module, acting on the active simulated world
(sim/world.py). Signatures, constants and errors follow MicroPython 1.27 (esp32 port
values; port differences come from the board's DATA: `port`, `gpios`, `touch_gpios`,
`i2c_ids`, `i2c_pins`, `i2s_ids`, `wdt_max_ms`...).

What a real board rejects is rejected here the same way: a pin the chip does not have ->
ValueError("invalid pin"); no part acks the address -> OSError(ENODEV); a bus fault ->
OSError(EIO); an I2S or PWM used after deinit() -> ValueError.

Differences, on purpose: lightsleep()/deepsleep() do not wait (they record the power state;
the simulator's FirmwareDriver does the waiting), reset()/deepsleep() raise SimReset (a
BaseException, so firmware `except Exception` cannot swallow it: on a board they never
return), and a blocking I2S readinto/write moves only the frames whose time has come.
"""
import errno

from sim import world as _world
from sim.audio import RxStream, TxStream

PWRON_RESET = _world.PWRON_RESET
HARD_RESET = _world.HARD_RESET
WDT_RESET = _world.WDT_RESET
DEEPSLEEP_RESET = _world.DEEPSLEEP_RESET
SOFT_RESET = _world.SOFT_RESET
IDLE = 1
SLEEP = 2
DEEPSLEEP = 4
PIN_WAKE = 2
EXT0_WAKE = 2
EXT1_WAKE = 3
TIMER_WAKE = 4
TOUCHPAD_WAKE = 5
ULP_WAKE = 6


class SimReset(BaseException):
    """The firmware asked the board to reset (reset(), soft_reset(), deepsleep())."""

    def __init__(self, cause, why):
        super().__init__("%s (%s)" % (why, _world.RESET_NAMES.get(cause, cause)))
        self.cause = cause


def _w():
    return _world.current()


def _oserror(code):
    return OSError(code, errno.errorcode.get(code, str(code)))


# ---- Pin ------------------------------------------------------------------------------------
class _PinIRQ:
    def __init__(self, st):
        self._st = st

    def trigger(self):
        return self._st.irq_trigger

    def flags(self):
        return self._st.irq_trigger


class Pin:
    IN = _world.MODE_IN
    OUT = _world.MODE_OUT
    OPEN_DRAIN = _world.MODE_OPEN_DRAIN
    PULL_DOWN = _world.PULL_DOWN
    PULL_UP = _world.PULL_UP
    PULL_HOLD = 4
    IRQ_RISING = _world.IRQ_RISING
    IRQ_FALLING = _world.IRQ_FALLING
    WAKE_LOW = 4
    WAKE_HIGH = 5
    DRIVE_0 = 0
    DRIVE_1 = 1
    DRIVE_2 = 2
    DRIVE_3 = 3

    def __init__(self, id, mode=-1, pull=-1, *, value=None, drive=None, hold=None):
        w = _w()
        self._world = w
        self._id = id
        self._gpio = w.resolve_pin(id)
        self._st = w.pin(self._gpio)
        self.init(mode, pull, value=value, drive=drive, hold=hold)

    def init(self, mode=-1, pull=-1, *, value=None, drive=None, hold=None):
        if mode not in (-1, None, self.IN, self.OUT, self.OPEN_DRAIN):
            raise ValueError("invalid pin mode")
        if pull not in (-1, None, self.PULL_UP, self.PULL_DOWN, self.PULL_HOLD):
            raise ValueError("invalid pull")
        out_only = self._world.data.get("input_only_gpios", ())
        if mode in (self.OUT, self.OPEN_DRAIN) and self._gpio in out_only:
            raise ValueError("pin can only be input")
        self._world.set_pin(self._gpio, -1 if mode is None else mode, pull, value)

    def value(self, x=None):
        if x is None:
            return self._st.level()
        self._world.set_pin(self._gpio, out=x)
        return None

    __call__ = value

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def toggle(self):
        self.value(0 if self._st.out else 1)

    def mode(self, mode=None):
        if mode is None:
            return self._st.mode if self._st.mode is not None else self.IN
        self.init(mode)
        return None

    def pull(self, pull=-1):
        if pull == -1:
            return self._st.pull
        self.init(pull=pull)
        return None

    def drive(self, drive=None):
        return self.DRIVE_2 if drive is None else None

    def irq(self, handler=None, trigger=IRQ_FALLING | IRQ_RISING, *, priority=1, wake=None,
            hard=False):
        """handler(pin) runs when a part drives an edge that matches `trigger`; the
        firmware's scheduler is then kicked. handler=None disables the IRQ."""
        st = self._st
        if handler is not None and not callable(handler):
            raise TypeError("handler must be None or callable")
        if trigger & ~(self.IRQ_RISING | self.IRQ_FALLING):
            raise ValueError("bad trigger")
        st.irq_handler = handler
        st.irq_trigger = trigger if handler is not None else 0
        st.irq_pin = self
        return _PinIRQ(st)

    def __repr__(self):
        return "Pin(%s)" % (self._gpio,)


class Signal:
    def __init__(self, pin, *args, invert=False, **kw):
        self._pin = pin if isinstance(pin, Pin) else Pin(pin, *args, **kw)
        self._inv = 1 if invert else 0

    def value(self, x=None):
        if x is None:
            return self._pin.value() ^ self._inv
        self._pin.value((1 if x else 0) ^ self._inv)
        return None

    __call__ = value

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


def _gpio_of(p):
    if isinstance(p, Pin):
        return p._gpio
    return _w().resolve_pin(p)


# ---- I2C ------------------------------------------------------------------------------------
class I2C:
    def __init__(self, id=-1, *, scl=None, sda=None, freq=400000, timeout=50000):
        w = _w()
        self._world = w
        ids = w.data.get("i2c_ids", (0, 1))
        if id not in ids:
            raise ValueError("I2C(%s) doesn't exist" % (id,))
        self._id = id
        self.init(scl=scl, sda=sda, freq=freq, timeout=timeout)

    def init(self, *, scl=None, sda=None, freq=400000, timeout=50000):
        w = self._world
        default = w.data.get("i2c_default", {}).get(self._id, (None, None))
        scl = _gpio_of(scl) if scl is not None else default[0]
        sda = _gpio_of(sda) if sda is not None else default[1]
        if scl is None or sda is None:
            raise ValueError("I2C(%d) needs scl and sda pins on this board" % self._id)
        allowed = w.data.get("i2c_pins", {}).get(self._id)
        if allowed is not None:  # ports whose I2C units sit on fixed pins (rp2)
            if sda not in allowed[0]:
                raise ValueError("bad SDA pin")
            if scl not in allowed[1]:
                raise ValueError("bad SCL pin")
        if freq <= 0:
            raise ValueError("freq must be > 0")
        self._scl = scl
        self._sda = sda
        self.freq = freq

    def _part(self, addr):
        if not 0 <= addr < 0x80:
            raise ValueError("invalid I2C address")
        wires = self._world.wires(self._scl, self._sda)
        if wires is not None:
            wires.transfers += 1
        part = wires.parts.get(addr) if wires is not None else None
        if part is None or not part.present:
            raise _oserror(errno.ENODEV)
        code = part.take_bus_error()
        if code:
            raise _oserror(code)
        return part

    def scan(self):
        wires = self._world.wires(self._scl, self._sda)
        if wires is None:
            return []
        return sorted(a for a, p in wires.parts.items() if p.present)

    # whole transfers
    def writeto(self, addr, buf, stop=True):
        self._part(addr).i2c_write(bytes(buf))
        return len(buf)

    def writevto(self, addr, vector, stop=True):
        data = b"".join(bytes(b) for b in vector)
        self._part(addr).i2c_write(data)
        return len(data)

    def readfrom_into(self, addr, buf, stop=True):
        data = self._part(addr).i2c_read(len(buf))
        memoryview(buf).cast("B")[:] = data

    def readfrom(self, addr, nbytes, stop=True):
        return bytes(self._part(addr).i2c_read(nbytes))

    # register (memory) transfers
    @staticmethod
    def _mem(memaddr, addrsize):
        if addrsize == 8:
            return bytes((memaddr & 0xFF,))
        if addrsize == 16:
            return bytes(((memaddr >> 8) & 0xFF, memaddr & 0xFF))
        raise ValueError("addrsize must be 8 or 16")

    def writeto_mem(self, addr, memaddr, buf, *, addrsize=8):
        self._part(addr).i2c_write(self._mem(memaddr, addrsize) + bytes(buf))

    def readfrom_mem_into(self, addr, memaddr, buf, *, addrsize=8):
        part = self._part(addr)
        part.i2c_write(self._mem(memaddr, addrsize))  # repeated start, then read
        memoryview(buf).cast("B")[:] = part.i2c_read(len(buf))

    def readfrom_mem(self, addr, memaddr, nbytes, *, addrsize=8):
        buf = bytearray(nbytes)
        self.readfrom_mem_into(addr, memaddr, buf, addrsize=addrsize)
        return bytes(buf)


class SoftI2C(I2C):
    def __init__(self, scl, sda, *, freq=400000, timeout=50000):
        self._world = _w()
        self._id = -1
        self._scl = _gpio_of(scl)
        self._sda = _gpio_of(sda)
        self.freq = freq


# ---- I2S ------------------------------------------------------------------------------------
class I2S:
    RX = 1
    TX = 2
    MONO = 0
    STEREO = 1

    def __init__(self, id, *, sck, ws, sd, mck=None, mode, bits, format, rate, ibuf):
        w = _w()
        self._world = w
        if id not in w.data.get("i2s_ids", (0, 1)):
            raise ValueError("I2S(%s) does not exist" % (id,))
        self._id = id
        self._stream = None
        self.init(sck=sck, ws=ws, sd=sd, mck=mck, mode=mode, bits=bits, format=format,
                  rate=rate, ibuf=ibuf)

    def init(self, *, sck, ws, sd, mck=None, mode, bits, format, rate, ibuf):
        w = self._world
        if self._stream is not None:
            self.deinit()
        if mode not in (self.RX, self.TX):
            raise ValueError("invalid mode")
        if bits not in (16, 32):
            raise ValueError("invalid bits")
        if format not in (self.MONO, self.STEREO):
            raise ValueError("invalid format")
        if rate <= 0:
            raise ValueError("invalid rate")
        if ibuf <= 0:
            raise ValueError("invalid ibuf")
        sck, ws, sd = _gpio_of(sck), _gpio_of(ws), _gpio_of(sd)
        if w.data.get("i2s_ws_follows_sck") and ws != sck + 1:
            raise ValueError("invalid ws (must be sck+1)")  # rp2: PIO needs adjacent pins
        for other in w.open_peripherals:
            if isinstance(other, I2S) and other._id == self._id:
                raise OSError(errno.EBUSY, "I2S(%d) in use" % self._id)
        part = w.i2s_parts.get((sck, ws, sd))
        channels = 2 if format == self.STEREO else 1
        kind = RxStream if mode == self.RX else TxStream
        self._mode = mode
        self._handler = None
        self._stream = kind(w, part, self, rate, bits, channels, ibuf)
        self._pins = (sck, ws, sd)
        w.open_peripherals.append(self)
        if part is not None:
            part.i2s_open(self._stream)

    def _live(self):
        if self._stream is None:
            raise ValueError("I2S port is not initialized")
        return self._stream

    def irq(self, handler):
        """Set (or clear with None) the handler: readinto/write become non-blocking."""
        self._live()
        if handler is not None and not callable(handler):
            raise TypeError("handler must be callable")
        self._handler = handler

    def readinto(self, buf):
        s = self._live()
        if self._mode != self.RX:
            raise ValueError("I2S not configured for read method")
        if self._handler is None:
            return s.read_now(buf)
        if s.pending is not None:
            raise OSError(errno.EBUSY, "I2S read already in progress")
        s.start(buf, self._handler)
        return len(buf)

    def write(self, buf):
        s = self._live()
        if self._mode != self.TX:
            raise ValueError("I2S not configured for write method")
        if self._handler is None:
            return s.write_now(buf)
        if s.pending is not None:
            raise OSError(errno.EBUSY, "I2S write already in progress")
        s.start(buf, self._handler)
        return len(buf)

    def deinit(self):
        if self._stream is None:
            return
        self._sim_release()
        w = self._world
        if self in w.open_peripherals:
            w.open_peripherals.remove(self)

    def _sim_release(self):
        s = self._stream
        if s is None:
            return
        s.close()
        if s.part is not None:
            s.part.i2s_close(s)
        self._stream = None

    @staticmethod
    def shift(buf, bits, shift):
        """Shift every sample in buf left (shift > 0) or right (< 0), in place; like
        MicroPython's, no saturation (volume control by 6 dB steps)."""
        import array as _array
        if bits not in (16, 32):
            raise ValueError("invalid bits")
        a = _array.array("h" if bits == 16 else "i")
        a.frombytes(bytes(buf))
        half = 1 << (bits - 1)
        for i in range(len(a)):
            v = a[i] << shift if shift >= 0 else a[i] >> -shift
            a[i] = ((v + half) % (2 * half)) - half
        memoryview(buf).cast("B")[:] = a.tobytes()


# ---- PWM ------------------------------------------------------------------------------------
class PWM:
    def __init__(self, dest, *, freq=None, duty=None, duty_u16=None, duty_ns=None,
                 invert=False):
        w = _w()
        self._world = w
        self._gpio = _gpio_of(dest)
        self._freq = 5000
        self._duty = 0
        self._live = False
        self._invert = bool(invert)
        self.init(freq=freq, duty=duty, duty_u16=duty_u16, duty_ns=duty_ns)

    def init(self, *, freq=None, duty=None, duty_u16=None, duty_ns=None, invert=None):
        lo, hi = self._world.data.get("pwm_freq_range", (1, 40000000))
        if freq is not None:
            if not lo <= freq <= hi:
                raise ValueError("freq must be from %d Hz to %d Hz" % (lo, hi))
            self._freq = freq
        if invert is not None:
            self._invert = bool(invert)
        if duty is not None:
            self._set_u16(duty * 65535 // 1023)
        if duty_u16 is not None:
            self._set_u16(duty_u16)
        if duty_ns is not None:
            self._set_u16(duty_ns * self._freq * 65535 // 1000000000)
        if not self._live:
            self._live = True
            self._world.open_peripherals.append(self)
        self._publish()

    def _check(self):
        if not self._live:
            raise ValueError("PWM is inactive")

    def _set_u16(self, v):
        if not 0 <= v <= 65535:
            raise ValueError("duty_u16 must be from 0 to 65535")
        self._duty = v

    def _publish(self):
        d = 65535 - self._duty if self._invert else self._duty
        self._world.set_pwm(self._gpio, self._freq, d)

    def freq(self, value=None):
        self._check()
        if value is None:
            return self._freq
        self.init(freq=value)
        return None

    def duty_u16(self, value=None):
        self._check()
        if value is None:
            return self._duty
        self._set_u16(value)
        self._publish()
        return None

    def duty(self, value=None):
        self._check()
        if value is None:
            return self._duty * 1023 // 65535
        self._set_u16(value * 65535 // 1023)
        self._publish()
        return None

    def duty_ns(self, value=None):
        self._check()
        if value is None:
            return self._duty * 1000000000 // (65535 * self._freq)
        self.init(duty_ns=value)
        return None

    def deinit(self):
        if self._live:
            self._sim_release()
            w = self._world
            if self in w.open_peripherals:
                w.open_peripherals.remove(self)

    def _sim_release(self):
        self._live = False
        self._world.set_pwm(self._gpio, self._freq, None)


# ---- ADC ------------------------------------------------------------------------------------
class ADC:
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3
    WIDTH_12BIT = 12
    _FULL_SCALE_V = (0.95, 1.25, 1.75, 3.1)  # esp32-s3 usable ranges per attenuation

    def __init__(self, pin, *, atten=ATTN_0DB):
        self._world = _w()
        self._gpio = _gpio_of(pin)
        adc = self._world.data.get("adc_gpios")
        if adc is not None and self._gpio not in adc:
            raise ValueError("invalid pin")
        self.atten(atten)

    def atten(self, atten):
        if atten not in (0, 1, 2, 3):
            raise ValueError("invalid attenuation")
        self._atten = atten

    def width(self, bits):
        return None

    def _volts(self):
        fs = self._FULL_SCALE_V[self._atten] if self._world.port == "esp32" else 3.3
        return max(0.0, min(fs, self._world.analog.get(self._gpio, 0.0))), fs

    def read_u16(self):
        v, fs = self._volts()
        return int(v / fs * 65535)

    def read_uv(self):
        return int(self._volts()[0] * 1e6)

    def read(self):
        return self.read_u16() >> 4


# ---- TouchPad (esp32 only: see __getattr__) -------------------------------------------------
class _TouchPad:
    def __init__(self, pin):
        w = _w()
        self._world = w
        gpio = _gpio_of(pin)
        if gpio not in w.data.get("touch_gpios", ()):
            raise ValueError("invalid pin for touchpad")
        self._gpio = gpio
        self._threshold = 0

    def config(self, value):
        self._threshold = value

    def read(self):
        part = self._world.touch_parts.get(self._gpio)
        if part is None:
            return self._world.data.get("touch_idle_value", 30000)
        return part.read_raw()


_PORT_ONLY = {"TouchPad": ("esp32", _TouchPad)}


def __getattr__(name):
    """Port-specific classes exist only on their port (rp2 has no TouchPad)."""
    if name in _PORT_ONLY:
        port, cls = _PORT_ONLY[name]
        w = _world._current
        if w is None or w.port == port:
            return cls
    raise AttributeError("module 'machine' has no attribute '%s'" % name)


# ---- WDT ------------------------------------------------------------------------------------
class WDT:
    def __init__(self, id=0, timeout=5000):
        w = _w()
        lo = w.data.get("wdt_min_ms", 1)
        hi = w.data.get("wdt_max_ms", 0)
        if timeout < lo:
            raise ValueError("WDT timeout too short")
        if hi and timeout > hi:
            raise ValueError("WDT timeout too long")
        self._world = w
        w.wdt_start(timeout)

    def feed(self):
        self._world.wdt_feed()


# ---- functions ------------------------------------------------------------------------------
def reset():
    _w().request_reset(SOFT_RESET if _w().port == "esp32" else WDT_RESET, "machine.reset()")
    raise SimReset(_w().reset_request[0], "machine.reset()")


def soft_reset():
    _w().request_reset(SOFT_RESET, "machine.soft_reset()")
    raise SimReset(SOFT_RESET, "machine.soft_reset()")


def reset_cause():
    return _w().reset_cause


def wake_reason():
    return _w().wake_reason


def unique_id():
    return _w().unique_id()


def freq(hz=None):
    w = _w()
    if hz is None:
        return w.cpu_hz
    allowed = w.data.get("cpu_hz_allowed")
    if allowed and hz not in allowed:
        raise ValueError("frequency must be one of %s"
                         % ", ".join("%dMHz" % (f // 1000000) for f in allowed))
    w.cpu_hz = hz
    return None


def idle():
    _w().power.set_state("idle")


def lightsleep(time_ms=None):
    """Records that the board sleeps until its next wake; does not wait (see above)."""
    w = _w()
    if "lightsleep" not in w.data.get("caps", ()):
        raise OSError(errno.EOPNOTSUPP, "lightsleep not supported on this board")
    w.power.set_state("lightsleep")
    w.wake_reason = TIMER_WAKE if time_ms else PIN_WAKE


def deepsleep(time_ms=None):
    w = _w()
    w.power.set_state("deepsleep")
    w.request_reset(DEEPSLEEP_RESET, "deepsleep", wake_after_ms=time_ms)
    raise SimReset(DEEPSLEEP_RESET, "deepsleep")


def disable_irq():
    return 0


def enable_irq(state=0):
    return None


def bootloader(*args):
    raise SimReset(HARD_RESET, "bootloader")
