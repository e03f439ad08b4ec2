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
# the LED is on exactly while microphone frames are being sent (or kept for the phone),
# and while a held query is handed over to the phone.
# send_audio(pkt) gets a memoryview valid only during the call: copy it to keep it.
#
# The I2S may come and go (the microphone is closed while the glasses are not worn):
# attach(i2s) / detach(); the reader waits while there is none, the processor goes on
# (a held query is still handed over).
#
# on_end(first_seq, last_seq, why, delivered) runs when an utterance ends (why: one of
# END_*; delivered: every packet went to the link); on_handover(first_seq, last_seq) runs
# when a held query has been handed over whole. Both run in the processor task.
# gate() -> True keeps the VAD from starting an utterance (the glasses are talking).
# handover_ok() -> True: the phone can take a held query now (default: link_up());
# audio_room() -> how many packets the link takes now: the handover never sends more.
from micropython import const

from firmware.voice import chimes, codec, packet as P
from firmware.voice import vad as V
from firmware.voice.offline import QueryStore, IDLE, RECORDING, HANDOVER
from firmware.voice.ring import FrameRing
from firmware.runtime import sched as _s
from firmware.runtime.sync import Flag

MODE_VAD = const(0)  # start and end by voice activity (start()/stop() also work)
MODE_TAP = const(1)  # start() / stop() only (and max_ms)
FRAME_MS = const(20)
HANDOVER_PER_FRAME = const(4)  # stored packets sent per 20 ms while handing over

# Why an utterance ended (Capture.last_end, on_end's `why`).
END_VAD = const(3)  # the VAD heard the hangover of quiet (vad.EV_END)
END_MAX = const(4)  # it lasted max_ms (vad.EV_MAX)
END_STOP = const(5)  # stop(): a tap, or the phone said the command was whole
END_SILENT = const(6)  # started by start(), and no speech within silence_ms
END_ABORT = const(7)  # abort(): dropped (glasses taken off), nothing is asked
END_NAMES = ("", "", "", "end", "max", "stop", "silent", "abort")


class Capture:
    def __init__(self, i2s, sched, send_audio, privacy_led, link_up=None, playback=None,
                 vad=None, mode=MODE_VAD, ring_frames=24, preroll_frames=12,
                 max_ms=15000, offline_bytes=32768, offline_keep_ms=60000, on_end=None,
                 on_handover=None, silence_ms=0, gate=None, handover_ok=None,
                 audio_room=None, wake=False, wake_grace_ms=1000):
        if preroll_frames + 4 > ring_frames:
            raise ValueError("capture: ring_frames must exceed preroll_frames by 4+")
        self.i2s = None
        self.sched = sched
        self.send_audio = send_audio
        self.privacy_led = privacy_led
        self.link_up = link_up or _always
        self.handover_ok = handover_ok or self.link_up  # the phone can take a held query
        self.audio_room = audio_room  # audio_room() -> packets the link takes without a drop
        self.playback = playback  # chimes and the cached phrase (optional)
        self.vad = vad or V.Vad(max_ms=max_ms)
        self.mode = mode
        self.on_end = on_end
        self.on_handover = on_handover
        self.gate = gate  # gate() -> True: the VAD may not start an utterance now
        self.wake = wake  # a VAD start waits for the phone to hear the wake word
        self.awaiting_wake = False  # this utterance: no wake word confirmed yet
        self._woke = False  # ... the phone confirmed it (confirm_wake())
        # the VAD heard a pause in an utterance still awaiting the phone's verdict on its
        # wake word ("hey jarvis" ... "what time is it"; at 10 dB SNR the word's quiet
        # end and the pause after it outlast the hangover): it streams on this long for
        # the verdict (a drop comes within 300 ms of the speech's end), then ends
        self.grace_frames = wake_grace_ms // FRAME_MS
        self._grace = 0  # frames of that grace left (0: none running)
        self.silence_frames = silence_ms // FRAME_MS  # 0: a started utterance may be silent
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
        self._attached = Flag(sched)  # an I2S was attached
        self.unseen = 0
        self.streaming = False
        self._delivered = True
        self._start_req = False
        self._stop_req = False
        self._length = 0
        self._heard = False  # the VAD heard speech in this utterance
        self.tapped = False  # the current / last utterance was started by start()
        self._handing = False  # a held query is being handed over (LED on)
        self.first_seq = 0  # of the current / last utterance
        self.seq = 0
        self.overruns = 0
        self.i2s_stalls = 0  # reads that took over 100 ms (reader(), below)
        self.i2s_errors = 0
        self.stall_ms_max = 0
        self._pending = False  # a readinto() is outstanding
        self._waited = 0
        self.frames_in = 0
        self.packets_sent = 0
        self.utterances = 0
        self.last_end = V.EV_NONE
        if i2s is not None:
            self.attach(i2s)

    def _irq(self, _i2s):
        self._full.set()

    def attach(self, i2s):
        """Read from this I2S (RX, 16 kHz, 16-bit, mono) from now on."""
        self.i2s = i2s
        self._full.clear()
        self._pending = False
        self.unseen = 0
        r = self.ring
        r.drop_oldest(len(r))  # frames from before are stale
        self.vad.reset()  # the room may differ: learn its floor again
        i2s.irq(self._irq)
        self._attached.set()
        self._ready.set()  # the processor may be asleep for good
    def detach(self):
        """Stop reading (the caller closes the I2S). An utterance in progress is
        dropped (abort())."""
        self.abort()
        self.i2s = None

    def start(self):
        """Tap-to-talk: start streaming with the next frame."""
        self._start_req = True

    def stop(self):
        """Tap-to-talk: end the utterance with the next frame."""
        self._stop_req = True

    def confirm_wake(self):
        """The phone heard the wake word in this utterance: it is a query now (the start
        chime says so); it ends after speech that follows, or silence_ms without any."""
        if not self.streaming or not self.awaiting_wake:
            return False
        self.awaiting_wake = False
        self._woke = True
        self._heard = False
        self._length = 0
        self._grace = 0
        if self.playback is not None:
            self.playback.play_chime(chimes.START)
        return True

    def hold(self, first_seq):
        """Keep the last query again (its answer was lost with the link): see
        QueryStore.hold(); the processor hands it over once the phone is back."""
        if not self.store.hold(first_seq):
            return False
        self._ready.set()
        return True

    def abort(self):
        """Drop the utterance in progress now: no END packet, no chime, not kept. The VAD's
        utterance ends with it (the floor it learned stays): speech that goes on, or comes
        back within the VAD's hangover, is a new utterance (the phone dropped this one at
        a pause with no wake word; "hey jarvis" said right after is not lost)."""
        if not self.streaming:
            return
        self.vad.end_utterance()
        self.streaming = False
        self._stop_req = False
        self.last_end = END_ABORT
        self.privacy_led(False)
        self.store.finish(True)
        if self.on_end is not None:
            self.on_end(self.first_seq, (self.seq - 1) & 0xFFFF, END_ABORT, True)

    # ---- reader ----------------------------------------------------------------------
    # One read is outstanding at a time: readinto() is issued once, and only the handler
    # (the slot is full) or a new I2S ends it. A wait that times out is a stall (the
    # driver or the whole scheduler held up): counted in i2s_stalls (once per stall;
    # stall_ms_max the longest) and waited out, never answered with a second readinto(),
    # which a busy driver refuses (OSError EBUSY). A readinto() that raises is counted in
    # i2s_errors and retried a frame later.
    async def reader(self):
        r = self.ring
        while True:
            i2s = self.i2s
            if i2s is None:
                await self._attached.wait()
                continue
            if not self._pending:
                try:
                    i2s.readinto(r.write_slot())
                except OSError:
                    self.i2s_errors += 1
                    await _s.sleep_ms(FRAME_MS)
                    continue
                self._pending = True
                self._waited = 0
            if not await self._full.wait(FRAME_MS * 5):
                if self.i2s is i2s:
                    if self._waited == 0:
                        self.i2s_stalls += 1  # no frame in 100 ms: keep waiting for it
                    self._waited += FRAME_MS * 5
                    if self._waited > self.stall_ms_max:
                        self.stall_ms_max = self._waited
                continue
            if self.i2s is not i2s:
                continue  # detached (and maybe attached again) meanwhile
            self._pending = False
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
            # With no microphone and no query held there is nothing to do: sleep until
            # attach() (no wakes while the glasses are off the head).
            idle = self.i2s is None and self.store.state == IDLE
            await self._ready.wait(-1 if idle else FRAME_MS * 5)
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
            tapped = self._start_req
            start = tapped or (self.mode == MODE_VAD and ev == V.EV_START and
                               (self.gate is None or not self.gate()))
            self._start_req = False
            self._stop_req = False
            if not start:
                r.drop_oldest(self.preroll + self.unseen)
                return
            self._begin(tapped)
            first = idx - self.preroll
            if first < 0:
                first = 0
            for i in range(first, idx):  # the pre-roll, oldest first
                self._send(r.peek(i), 0)
        self._length += 1
        if ev == V.EV_START or (ev == V.EV_SPEECH and not self.vad.quiet):
            # (a frame of the VAD's hangover is not speech: after confirm_wake() in the
            # pause after "hey jarvis" it would end the query before it was asked)
            self._heard = True
            self._grace = 0  # speech goes on: the same utterance
        end = V.EV_NONE
        if self._stop_req:
            end = END_STOP
        elif ev == V.EV_END and self.awaiting_wake and self.grace_frames:
            self._grace = self.grace_frames
        elif ev == V.EV_END or ev == V.EV_MAX:
            if self.mode == MODE_VAD and self._heard:
                end = ev
            elif ev == V.EV_MAX:
                end = ev
        elif self._grace:  # (only while awaiting: confirm_wake() and _begin() clear it)
            self._grace -= 1
            if not self._grace:
                end = V.EV_END  # no verdict: ambient speech (the phone is slow, or away)
        elif ((self.tapped or self._woke) and not self._heard and self.silence_frames and
              self._length >= self.silence_frames):
            end = END_SILENT
        if self._length >= self.max_frames:
            end = END_MAX
        self._send(frame, P.F_END if end else 0)
        r.drop_oldest(self.unseen)  # nothing before the unseen frames is needed now
        if end:
            self._end(end)

    def _begin(self, tapped):
        self.streaming = True
        self._length = 0
        self._heard = not tapped
        self.tapped = tapped
        self.awaiting_wake = self.wake and not tapped
        self._woke = False
        self._grace = 0
        self._delivered = True
        self._first = True
        self._handing = False  # a handover in progress gives way (the LED stays on)
        self.first_seq = self.seq
        self.utterances += 1
        self.store.begin()
        if self.mode == MODE_TAP:
            self.vad.reset()
        self.privacy_led(True)
        if self.playback is not None and not self.awaiting_wake:
            self.playback.play_chime(chimes.START)  # with a wake word: when it is heard

    def _send(self, frame, flags):
        if self._first:
            flags |= P.F_START | (P.F_WAKE if self.awaiting_wake else 0)
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
        if why == END_STOP:  # ended before the VAD heard its end: what follows is new
            self.vad.end_utterance()
        self.privacy_led(False)
        # no wake word heard: ambient speech, not a query (never kept, no chime)
        delivered = self._delivered or self.awaiting_wake
        self.store.finish(delivered)
        if self.playback is not None and not self.awaiting_wake:
            if delivered:
                self.playback.play_chime(chimes.END)
            else:  # the phone did not get it: say so, keep the query
                self.playback.play_chime(chimes.ERROR)
                if self.playback.phrase is not None:
                    self.playback.play_phrase()
        if self.on_end is not None:
            self.on_end(self.first_seq, (self.seq - 1) & 0xFFFF, why, delivered)

    def _offline_tick(self):
        st = self.store
        if st.state == RECORDING:
            return
        if st.state == IDLE or st.poll(self.handover_ok()) != HANDOVER:
            return
        if not self._handing:
            self._handing = True
            self.privacy_led(True)  # the query's audio streams to the phone now
        room = self.audio_room
        for _ in range(HANDOVER_PER_FRAME):
            if room is not None and room() < 1:
                return  # as fast as the link takes it, never faster (nothing is dropped)
            off = st.next_packet()
            if off < 0:
                self._handing = False
                self.privacy_led(False)
                if self.on_handover is not None:
                    self.on_handover(st.first_seq(), st.last_seq())
                return
            self.send_audio(memoryview(st.buf)[off:off + st.pkt_len])
            self.packets_sent += 1


def _always():
    return True
