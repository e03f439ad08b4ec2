"""The `machine` mirror's I2S: a microphone (RX) or amplifier (TX) stream to the part on
its pins, blocking or with an IRQ handler (non-blocking); a blocking readinto/write moves
only the frames whose time has come. Re-exported by sim/mirror/machine.py."""
import errno

from sim.audio import RxStream, TxStream
from sim.mirror._machine_pin import _gpio_of, _w


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
