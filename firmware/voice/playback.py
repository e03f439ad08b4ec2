# Playback: audio packets from the phone (jitter buffer, decode) and local sounds
# (chimes, the cached phrase) out through a machine.I2S in TX mode, non-blocking.
#
# The I2S object comes from the board, already initialised (16 kHz, 16-bit, mono). This
# task sets its irq: write(buf) then returns at once and the handler runs when buf has
# been taken; meanwhile the task prepares the other of two frame buffers. Nothing here
# blocks the scheduler, and the frame path allocates nothing.
#
# push(pkt) is called by the link for each audio packet: a packet that cannot be played
# (unknown codec id, bad size, bad ADPCM header) is refused with a clear message in
# `last_error`, the stream is dropped and playback goes back to idle.
#
# With `port` (firmware/drivers/i2s_port.I2SPort) instead of an I2S, the line is opened
# when there is something to play and closed again after close_after_ms of nothing (an
# open speaker line keeps the amplifier on); on_open(True / False) is told each time.
import array

from micropython import const

from firmware.voice import chimes, codec, packet as P
from firmware.voice.jitter import Jitter, J_PACKET, J_GAP, J_EMPTY, J_WAIT
from firmware.runtime import sched as _s
from firmware.runtime.sync import Flag

FRAME_SAMPLES = const(320)
FRAME_MS = const(20)
PHRASE = const(8)  # local sound id of the cached phrase (chimes are 0..4)
_LOCAL_MAX = const(4)

_NOTHING = const(0)  # _fill(): nothing to play
_FILLED = const(1)  # _fill(): buf holds the next frame
_EMPTY = const(2)  # _fill(): a stream runs but its next packet is not here yet

IDLE = const(0)
STREAM = const(1)
LOCAL = const(2)
STATE_NAMES = ("idle", "stream", "local")


class Playback:
    def __init__(self, i2s, sched, jitter=None, phrase=None, phrase_block=163,
                 max_underruns=25, port=None, close_after_ms=1000, on_open=None):
        if (i2s is None) == (port is None):
            raise ValueError("playback: give an I2S or a port, not both")
        self.i2s = None
        self.port = port
        self.close_after_ms = close_after_ms
        self.on_open = on_open
        self.jitter = jitter or Jitter()
        self.phrase = phrase  # ADPCM blocks (firmware/voice/phrases/*.DATA)
        self.phrase_block = phrase_block
        self.max_underruns = max_underruns  # consecutive empty frames before giving up
        self._bufs = (array.array("h", bytes(2 * FRAME_SAMPLES)),
                      array.array("h", bytes(2 * FRAME_SAMPLES)))
        self._dec = codec.State()
        self._done = Flag(sched)  # I2S took the buffer
        self._wake = Flag(sched)  # something to play
        self._lq = [0] * _LOCAL_MAX  # queued local sounds (ids), a small ring
        self._lh = 0
        self._ln = 0
        self._lpos = 0  # position in the current local sound (samples or blocks)
        self._underrun_run = 0
        self.gain = 256  # the volume, Q8 (256: as decoded); applied to every frame played
        self.state = IDLE
        self.frames_out = 0
        self.errors = 0
        self.last_error = None
        self.dropped_local = 0
        self.stream_timeouts = 0
        self.underruns = 0
        self.i2s_stalls = 0
        self.opens = 0
        self.started = [0] * (PHRASE + 1)  # local sounds begun, by id (chimes, PHRASE)
        if i2s is not None:
            self.i2s = i2s
            i2s.irq(self._irq)

    def _irq(self, _i2s):
        self._done.set()

    def _open(self):
        i2s = self.port.open()
        self.i2s = i2s
        self._done.clear()
        i2s.irq(self._irq)
        self.opens += 1
        if self.on_open is not None:
            self.on_open(True)

    def _close(self):
        self.i2s = None
        self.port.close()
        if self.on_open is not None:
            self.on_open(False)

    def busy(self):
        """Something is playing or queued to play."""
        return self.state != IDLE or self._ln > 0 or self.jitter.active

    def room(self):
        """Packets push() can take now without pushing older ones out."""
        j = self.jitter
        return j.slots - j.held

    # ---- called by other tasks ---------------------------------------------------------
    def push(self, pkt):
        """Queue one audio packet from the phone. False (with last_error) if refused."""
        try:
            P.check(pkt)
            if P.samples_in(pkt) > FRAME_SAMPLES:
                raise P.PacketError("audio packet of %d samples; a frame is at most %d"
                                    % (P.samples_in(pkt), FRAME_SAMPLES))
            self.jitter.put(pkt)
        except P.PacketError as e:
            self._fail(e)
            return False
        self._wake.set()
        return True

    def play_chime(self, chime):
        chimes.length(chime)  # ValueError for an unknown chime, now rather than later
        self._local(chime)

    def play_phrase(self):
        if self.phrase is None:
            raise ValueError("no phrase was given to this Playback")
        self._local(PHRASE)

    def stop(self):
        """Silence now: drop local sounds and the stream (the "stop" intent)."""
        self._ln = 0
        self._lpos = 0
        self.jitter.reset()

    def _local(self, sid):
        if self._ln >= _LOCAL_MAX:
            self.dropped_local += 1
            return
        i = self._lh + self._ln
        if i >= _LOCAL_MAX:
            i -= _LOCAL_MAX
        self._lq[i] = sid
        self._ln += 1
        self._wake.set()

    def _fail(self, e):
        self.errors += 1
        self.last_error = str(e)
        self.jitter.reset()
        if self.state == STREAM:
            self.state = IDLE

    # ---- the frame source -------------------------------------------------------------
    def _fill(self, buf):
        """Put the next 20 ms into buf: _FILLED, _EMPTY (stream waiting for a packet) or
        _NOTHING."""
        while self._ln:
            sid = self._lq[self._lh]
            if self._lpos == 0:
                self.started[sid] += 1
            if sid == PHRASE:
                off = self._lpos * self.phrase_block
                if off + self.phrase_block <= len(self.phrase):
                    codec.decode(self._dec, self.phrase, off, self.phrase_block, buf)
                    self._lpos += 1
                    self.state = LOCAL
                    return _FILLED
            else:
                m = chimes.render(sid, buf, self._lpos, FRAME_SAMPLES)
                self._lpos += m
                if m:
                    self.state = LOCAL
                    return _FILLED
            self._lh = self._lh + 1 if self._lh + 1 < _LOCAL_MAX else 0  # sound done
            self._ln -= 1
            self._lpos = 0
        j = self.jitter
        if not j.active:
            self.state = IDLE
            return _NOTHING
        r = j.next()
        if r == J_PACKET:
            self._underrun_run = 0
            self.state = STREAM
            try:
                self._decode(j.cur, j.cur_len, buf)
            except (P.PacketError, codec.AdpcmError) as e:
                self._fail(e)
                return _NOTHING
            return _FILLED
        if r == J_GAP:  # a lost packet: 20 ms of silence (the next header resyncs ADPCM)
            self._silence(buf, 0)
            return _FILLED
        if r == J_EMPTY and j.active:
            return _EMPTY
        if r == J_WAIT:
            return _EMPTY
        self.state = IDLE  # J_END
        return _NOTHING

    def _underrun(self, buf):
        """The stream's next packet did not come within a frame: play silence; after
        max_underruns frames in a row give the stream up."""
        j = self.jitter
        self._underrun_run += 1
        if self._underrun_run > self.max_underruns:
            self.stream_timeouts += 1
            self._underrun_run = 0
            j.reset()
            self.state = IDLE
            return False
        if not j.playing:
            j.playing = True  # prebuffering took too long: start with what is there
        self.underruns += 1
        self._silence(buf, 0)
        return True

    def _decode(self, pkt, n, buf):
        c = pkt[0] & 0x0F
        if c == P.CODEC_ADPCM:
            k = codec.decode(self._dec, pkt, P.HEADER_BYTES, n - P.HEADER_BYTES, buf)
        elif c == P.CODEC_PCM16:
            k = (n - P.HEADER_BYTES) >> 1
            o = P.HEADER_BYTES
            for i in range(k):
                s = pkt[o] | (pkt[o + 1] << 8)
                buf[i] = s - 0x10000 if s >= 0x8000 else s
                o += 2
        else:  # P.check() refused it already; kept for safety
            raise P.PacketError("unknown audio codec id %d" % c)
        self._silence(buf, k)

    @staticmethod
    def _silence(buf, start):
        for i in range(start, FRAME_SAMPLES):
            buf[i] = 0

    # ---- the task --------------------------------------------------------------------
    async def run(self):
        """Scheduler task (spawn it at PRIO_AUDIO)."""
        k = 0
        writing = False
        while True:
            buf = self._bufs[k]
            r = self._fill(buf)
            if r == _EMPTY:
                if await self._wake.wait(FRAME_MS):
                    continue  # a packet came: try again
                if not self._underrun(buf):
                    continue
            elif r == _NOTHING:
                if writing:  # let the last buffer go before idling
                    if not await self._done.wait(FRAME_MS * 4):
                        self.i2s_stalls += 1
                    writing = False
                if self.port is not None and self.i2s is not None:
                    if not await self._wake.wait(self.close_after_ms):
                        self._close()  # nothing to play for a while: amplifier off
                    continue
                await self._wake.wait()
                continue
            if writing and not await self._done.wait(FRAME_MS * 4):
                self.i2s_stalls += 1  # the I2S never took the last buffer: go on anyway
            if self.i2s is None:
                try:
                    self._open()
                except OSError as e:
                    self._fail(e)
                    self._ln = 0
                    self._lpos = 0
                    continue
            g = self.gain
            if g != 256:
                for i in range(FRAME_SAMPLES):
                    buf[i] = (buf[i] * g) >> 8
            self.i2s.write(buf)
            writing = True
            self.frames_out += 1
            k ^= 1
            await _s.sleep_ms(0)  # let the other tasks at this priority run
