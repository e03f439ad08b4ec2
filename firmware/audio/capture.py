# Capture: microphone frames from a machine.I2S in RX mode into the frame ring, VAD or
# tap-to-talk, ADPCM encode, numbered packets to send_audio(); offline keeping of the
# last query. Two scheduler tasks:
#
#   reader (PRIO_AUDIO)     readinto(next ring slot) in non-blocking (irq) mode; when the
#                           handler says the slot is full: commit, wake the processor.
#   processor (PRIO_LINK)   each new frame: VAD, encode, send; keeps `preroll_frames`
#                           frames before a start so the first syllable is not lost.
#
# If the processor falls behind by more than the ring holds, the oldest unprocessed frame
# is overwritten and counted in `overruns` (frames lost); the reader never waits for it.
# privacy_led(True) is called when streaming starts and privacy_led(False) when it ends:
# the LED is on exactly while microphone frames are being sent (or kept for the phone).
# send_audio(pkt) gets a memoryview valid only during the call: copy it to keep it.
from micropython import const

from firmware.audio import chimes, codec, packet as P
from firmware.audio import vad as V
from firmware.audio.offline import QueryStore, RECORDING, HANDOVER
from firmware.audio.ring import FrameRing
from firmware.runtime.sync import Flag

MODE_VAD = const(0)  # start and end by voice activity (start()/stop() also work)
MODE_TAP = const(1)  # start() / stop() only (and max_ms)
FRAME_MS = const(20)
HANDOVER_PER_FRAME = const(4)  # stored packets sent per 20 ms while handing over


class Capture:
    def __init__(self, i2s, sched, send_audio, privacy_led, link_up=None, playback=None,
                 vad=None, mode=MODE_VAD, ring_frames=24, preroll_frames=8,
                 max_ms=15000, offline_bytes=32768, offline_keep_ms=60000):
        if preroll_frames + 4 > ring_frames:
            raise ValueError("capture: ring_frames must exceed preroll_frames by 4+")
        self.i2s = i2s
        self.sched = sched
        self.send_audio = send_audio
        self.privacy_led = privacy_led
        self.link_up = link_up or _always
        self.playback = playback  # chimes and the cached phrase (optional)
        self.vad = vad or V.Vad(max_ms=max_ms)
        self.mode = mode
        self.max_frames = max_ms // FRAME_MS
        self.ring = FrameRing(ring_frames)
        self.preroll = preroll_frames
        self.store = QueryStore(sched.clock, offline_bytes, offline_keep_ms)
        self._enc = codec.State()
        self._pkt = bytearray(P.HEADER_BYTES + codec.encoded_size(self.ring.frame_samples))
        self._pv = memoryview(self._pkt)
        self._pvn = len(self._pkt)  # the usual packet length, and a view of exactly it
        self._pvv = self._pv[0:self._pvn]
        self._first = False
        self._full = Flag(sched)  # I2S filled the slot
        self._ready = Flag(sched)  # frames for the processor
        self.unseen = 0
        self.streaming = False
        self._delivered = True
        self._start_req = False
        self._stop_req = False
        self._length = 0
        self.seq = 0
        self.overruns = 0
        self.i2s_stalls = 0
        self.frames_in = 0
        self.packets_sent = 0
        self.utterances = 0
        self.last_end = V.EV_NONE
        i2s.irq(self._irq)

    def _irq(self, _i2s):
        self._full.set()

    def start(self):
        """Tap-to-talk: start streaming with the next frame."""
        self._start_req = True

    def stop(self):
        """Tap-to-talk: end the utterance with the next frame."""
        self._stop_req = True

    # ---- reader ----------------------------------------------------------------------
    async def reader(self):
        r = self.ring
        while True:
            self.i2s.readinto(r.write_slot())
            if not await self._full.wait(FRAME_MS * 5):
                self.i2s_stalls += 1  # no frame in 100 ms: ask again
                continue
            if len(r) >= r.n_frames:  # the oldest frame is about to be overwritten
                if self.unseen >= r.n_frames:
                    self.overruns += 1  # ... and nobody had processed it
                    self.unseen -= 1
            r.commit()
            self.unseen += 1
            self.frames_in += 1
            self._ready.set()

    # ---- processor -------------------------------------------------------------------
    async def processor(self):
        while True:
            await self._ready.wait(FRAME_MS * 5)
            while self.unseen:
                self._frame()
            self._offline_tick()

    def _frame(self):
        r = self.ring
        idx = len(r) - self.unseen
        frame = r.peek(idx)
        self.unseen -= 1
        if self.mode == MODE_VAD or self.streaming:
            ev = self.vad.feed(frame, r.frame_samples)
        else:
            ev = V.EV_NONE
        if not self.streaming:
            start = self._start_req or (self.mode == MODE_VAD and ev == V.EV_START)
            self._start_req = False
            self._stop_req = False
            if not start:
                r.drop_oldest(self.preroll + self.unseen)
                return
            self._begin()
            first = idx - self.preroll
            if first < 0:
                first = 0
            for i in range(first, idx):  # the pre-roll, oldest first
                self._send(r.peek(i), 0)
        self._length += 1
        end = V.EV_NONE
        if self._stop_req:
            end = V.EV_END
        elif ev == V.EV_END or ev == V.EV_MAX:
            if self.mode == MODE_VAD:
                end = ev
            elif ev == V.EV_MAX:
                end = ev
        if self._length >= self.max_frames:
            end = V.EV_MAX
        self._send(frame, P.F_END if end else 0)
        r.drop_oldest(self.unseen)  # nothing before the unseen frames is needed now
        if end:
            self._end(end)

    def _begin(self):
        self.streaming = True
        self._length = 0
        self._delivered = True
        self._first = True
        self.utterances += 1
        self.store.begin()
        if self.mode == MODE_TAP:
            self.vad.reset()
        self.privacy_led(True)
        if self.playback is not None:
            self.playback.play_chime(chimes.START)

    def _send(self, frame, flags):
        if self._first:
            flags |= P.F_START
            self._first = False
            self._enc.reset()
        pkt = self._pkt
        P.put_header(pkt, P.CODEC_ADPCM, flags, self.seq)
        n = P.HEADER_BYTES + codec.encode(self._enc, frame, self.ring.frame_samples, pkt,
                                          P.HEADER_BYTES)
        self.seq = (self.seq + 1) & 0xFFFF
        self.store.add(pkt, n)
        if self.link_up():
            self.send_audio(self._pvv if n == self._pvn else self._pv[0:n])
            self.packets_sent += 1
        else:
            self._delivered = False

    def _end(self, why):
        self.streaming = False
        self._stop_req = False
        self.last_end = why
        self.privacy_led(False)
        self.store.finish(self._delivered)
        if self.playback is not None:
            if self._delivered:
                self.playback.play_chime(chimes.END)
            else:  # the phone did not get it: say so, keep the query
                self.playback.play_chime(chimes.ERROR)
                if self.playback.phrase is not None:
                    self.playback.play_phrase()

    def _offline_tick(self):
        st = self.store
        if st.state == RECORDING:
            return
        if st.poll(self.link_up()) != HANDOVER:
            return
        for _ in range(HANDOVER_PER_FRAME):
            off = st.next_packet()
            if off < 0:
                return
            self.send_audio(memoryview(st.buf)[off:off + st.pkt_len])
            self.packets_sent += 1


def _always():
    return True
