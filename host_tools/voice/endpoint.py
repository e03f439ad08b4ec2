"""The phone's own end-pointing on an utterance as it streams in.

The glasses end an utterance after 600 ms of quiet (their VAD's hangover). The phone
hears the same audio ~one connection interval later, so it can run a shorter hangover
(`endpoint_ms`, 250 ms) with the firmware's own VAD (firmware/voice/vad.py) and start
recognising and answering speculatively. If the speech goes on, the guess is dropped
(`epoch` counts restarts); if the recogniser found a whole command, the phone tells the
glasses to stop listening (kinds.VOICE_ENDPOINT), which saves the rest of their hangover.

    live = Live(first_seq)
    ev = live.feed(seq, pkt)        # in arrival order; EV_END: a quiet point to guess at
    pcm = live.pcm()                # what was heard so far (gaps as silence)
"""
import array

import host_tools  # noqa: F401  (MicroPython mirrors for the shared firmware code)
from firmware.voice import vad as V
from host_tools.voice.collect import FRAME, MAX_PACKETS, AudioError, decode_packet

EV_NONE = V.EV_NONE
EV_START = V.EV_START
EV_END = V.EV_END
_SILENCE = bytes(2 * FRAME)


class Live:
    def __init__(self, first, endpoint_ms=250):
        self.first = first
        self.next = first  # the sequence number expected next
        self.frames = []  # decoded frames (bytes), gaps as silence
        self.vad = V.Vad(hangover_ms=endpoint_ms, warmup_ms=0, max_ms=2 * MAX_PACKETS * 20)
        self.epoch = 0  # speech (re)starts heard
        self.quiet_at = -1  # seq of the frame that ended the last speech run
        self.dirty = False  # a packet came out of order: the in-order picture is wrong
        self.ended = False  # the END packet came
        self.spec = None  # the speculative answer (host_tools/voice/host.py)
        self.wake = None  # its wake-word state (host_tools/voice/wake.py), if flagged WAKE
        self.gaps = 0

    def contains(self, seq):
        return (seq - self.first) & 0xFFFF < MAX_PACKETS

    def feed(self, seq, pkt):
        """One packet in arrival order; returns EV_START, EV_END or EV_NONE."""
        d = (seq - self.next) & 0xFFFF
        if d >= 0x8000 or len(self.frames) + d >= MAX_PACKETS:
            self.dirty = True  # behind what was already heard, or absurdly far ahead
            return EV_NONE
        ev = EV_NONE
        for _ in range(d):  # lost on the way: silence (the VAD hears quiet there)
            self.gaps += 1
            ev = self._frame(_SILENCE, (self.next) & 0xFFFF) or ev
            self.next = (self.next + 1) & 0xFFFF
        try:
            frame = decode_packet(pkt)
        except AudioError:
            self.dirty = True  # the ask will say what is wrong with it
            return EV_NONE
        ev = self._frame(frame, seq) or ev
        self.next = (seq + 1) & 0xFFFF
        return ev

    def _frame(self, frame, seq):
        self.frames.append(frame)
        a = array.array("h", frame)
        ev = self.vad.feed(a, FRAME)
        if ev == V.EV_START:
            self.epoch += 1
            return EV_START
        if ev == V.EV_END or ev == V.EV_MAX:
            self.quiet_at = seq
            return EV_END
        return EV_NONE

    def pcm(self):
        return b"".join(self.frames)

    def heard_through(self):
        """Sequence number of the last frame heard."""
        return (self.next - 1) & 0xFFFF
