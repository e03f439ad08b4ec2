"""Sample-accurate I2S streams for the `machine.I2S` mirror.

Both directions run on a frame clock that starts when the I2S is initialised: frame k is
on the wire at t0 + k/rate, so exactly `rate` frames pass per simulated second, in virtual
and in real time alike (the count comes from the world's integer microseconds, never from
how often anyone looks).

RX (a microphone): frames whose time has come wait in the internal buffer (`ibuf` bytes,
like the DMA buffers); what does not fit is dropped oldest-first and counted. A blocking
`readinto` returns the frames available now (possibly 0: the simulator cannot block the
loop, see docs/simulator.md); a non-blocking one (after `irq(handler)`) completes when a
buffer's worth has been produced, and the handler runs then.

TX (a speaker): written frames queue in the internal buffer and play one per frame slot;
when it runs dry the line plays silence and the next frame written lands in the next free
slot. A non-blocking `write` completes when the last frame has been copied into the internal
buffer. The part on the line receives every frame with its slot index.
"""
from array import array

_US = 1000000


def _ceil_div(a, b):
    return -(-a // b)


class _Stream:
    def __init__(self, world, part, owner, rate, bits, channels, ibuf):
        self.world = world
        self.part = part
        self.owner = owner  # the machine.I2S object handed to the handler
        self.rate = rate
        self.bits = bits
        self.channels = channels
        self.fb = bits // 8 * channels  # bytes per frame
        self.cap = max(1, ibuf // self.fb)
        self.t0 = world.now_us()
        self.pending = None  # [memoryview, frames done, frames total, handler]
        self._timer = None
        self.closed = False

    def frame_at(self, now_us):
        """Frame slots elapsed since t0 at now_us."""
        return (now_us - self.t0) * self.rate // _US

    def time_of(self, frame):
        """The first microsecond at which `frame` slots have elapsed."""
        return self.t0 + _ceil_div(frame * _US, self.rate)

    def _schedule(self, t_us):
        self._timer = self.world.call_at_us(t_us, self._tick)

    def _tick(self):
        self._timer = None
        if not self.closed and self.pending is not None:
            self._progress()

    def _complete(self):
        handler = self.pending[3]
        self.pending = None
        handler(self.owner)
        self.world.kick()

    def close(self):
        self.closed = True
        self.pending = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class RxStream(_Stream):
    def __init__(self, world, part, owner, rate, bits, channels, ibuf):
        super().__init__(world, part, owner, rate, bits, channels, ibuf)
        self.rd = 0  # next frame to hand to the firmware
        self.delivered = 0
        self.dropped = 0

    def _available(self, now):
        avail = self.frame_at(now) - self.rd
        if avail > self.cap:  # the internal buffer overflowed: oldest frames are lost
            self.dropped += avail - self.cap
            self.rd += avail - self.cap
            avail = self.cap
        return avail

    def _fill(self, mv, off_frames, n):
        if n <= 0:
            return
        if self.part is not None:
            pcm = self.part.frames(self, self.rd, n)
        else:
            pcm = array("h", bytes(2 * n))  # nothing on the line: zeros
        if self.bits == 32:
            wide = array("i", (s << 16 for s in pcm))
            data = wide
        else:
            data = pcm
        if self.channels == 2:  # the mic drives the left slot; the right one reads 0
            both = array(data.typecode, bytes(data.itemsize * 2 * n))
            both[0::2] = data
            data = both
        raw = data.tobytes()
        start = off_frames * self.fb
        mv[start:start + len(raw)] = raw
        self.rd += n
        self.delivered += n

    def read_now(self, buf):
        mv = memoryview(buf).cast("B")
        want = len(mv) // self.fb
        n = min(want, self._available(self.world.now_us()))
        self._fill(mv, 0, n)
        return n * self.fb

    def start(self, buf, handler):
        mv = memoryview(buf).cast("B")
        self._available(self.world.now_us())  # apply any overflow before this transfer
        self.pending = [mv, 0, len(mv) // self.fb, handler]
        self._progress()

    def _progress(self):
        p = self.pending
        now = self.world.now_us()
        n = min(p[2] - p[1], self.frame_at(now) - self.rd)
        if n > 0:
            self._fill(p[0], p[1], n)
            p[1] += n
        if p[1] >= p[2]:
            self._complete()
        else:
            self._schedule(self.time_of(self.rd + p[2] - p[1]))


class TxStream(_Stream):
    def __init__(self, world, part, owner, rate, bits, channels, ibuf):
        super().__init__(world, part, owner, rate, bits, channels, ibuf)
        self.wr = 0  # the frame slot the next written frame plays in
        self.written = 0
        self.underruns = 0

    def _room(self, now):
        played = self.frame_at(now)
        if self.wr < played:  # ran dry: the next frame goes to the next free slot
            if self.written:
                self.underruns += 1
            self.wr = played
        return self.cap - (self.wr - played)

    def _take(self, mv, off_frames, n):
        if n <= 0:
            return
        raw = mv[off_frames * self.fb:(off_frames + n) * self.fb]
        data = array("i" if self.bits == 32 else "h")
        data.frombytes(raw)
        if self.channels == 2:  # mono out: the left slot
            data = data[0::2]
        if self.bits == 32:
            data = array("h", (s >> 16 for s in data))
        if self.part is not None:
            self.part.play(self.wr, data, self.rate)
        self.wr += n
        self.written += n

    def write_now(self, buf):
        mv = memoryview(buf).cast("B")
        n = min(len(mv) // self.fb, self._room(self.world.now_us()))
        self._take(mv, 0, n)
        return n * self.fb

    def start(self, buf, handler):
        mv = memoryview(buf).cast("B")
        self.pending = [mv, 0, len(mv) // self.fb, handler]
        self._progress()

    def _progress(self):
        p = self.pending
        n = min(p[2] - p[1], self._room(self.world.now_us()))
        if n > 0:
            self._take(p[0], p[1], n)
            p[1] += n
        left = p[2] - p[1]
        if left <= 0:
            self._complete()
        else:  # when enough slots have played for the rest (at most a buffer) to fit
            self._schedule(self.time_of(self.wr + min(left, self.cap) - self.cap))

    def playing_until_us(self):
        return self.time_of(self.wr)
