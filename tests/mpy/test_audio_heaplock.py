# MicroPython only: the voice path's steady state allocates nothing. Capture (reader +
# processor: VAD, ADPCM, packets, offline copy) and playback (chimes) run on the
# scheduler through an utterance under micropython.heap_lock(), against I2S doubles that
# do not allocate either (tests/fw/i2s_double.py's world, fixed pre-generated frames).
import micropython

from audio_signals import FRAME, Speech, frame_buf
from i2s_double import AudioWorld, MicI2S

from firmware.voice.capture import Capture
from firmware.voice.playback import Playback
from firmware.runtime import sched as S
from firmware.runtime.clock import VirtualClock

HEAP_BUDGET = {"test_capture_and_playback_run_under_heap_lock": 80000}
FILE_HEAP_BUDGET = 144 * 1024  # imports included: capture, playback, the codec, the VAD


class FixedSource:
    """Frames 50..124 are speech (10 pre-generated frames in turn), the rest silence."""

    def __init__(self):
        sp = Speech(seed=6, level=9000)
        self.speech = [frame_buf() for _ in range(10)]
        for f in self.speech:
            sp.fill(f)
        self.k = 0

    def __call__(self, out):
        k = self.k
        self.k = k + 1
        if out is None:
            return
        if 50 <= k < 125:
            src = self.speech[k % 10]
            for i in range(FRAME):
                out[i] = src[i]
        else:
            for i in range(FRAME):
                out[i] = 0


class QuietSpeaker:
    """TX double that only counts: takes a buffer at once if its 3-frame FIFO has room."""

    def __init__(self, world):
        self.world = world
        self.handler = None
        self.waiting = None
        self.queued = 0
        self.drain_at = -1
        self.frames = 0
        self.loud = 0
        world.devices.append(self)

    def irq(self, handler):
        self.handler = handler

    def write(self, buf):
        self.waiting = buf

    def next_event(self):
        if self.waiting is not None and self.queued < 3:
            return self.world.now
        return self.drain_at if self.drain_at >= 0 else None

    def fire(self, now):
        if 0 <= self.drain_at <= now:
            self.queued -= 1
            self.drain_at = now + 20 if self.queued else -1
        if self.waiting is not None and self.queued < 3:
            b = self.waiting
            self.waiting = None
            self.frames += 1
            if b[100] > 1000 or b[100] < -1000 or b[200] > 1000 or b[200] < -1000:
                self.loud += 1
            self.queued += 1
            if self.drain_at < 0:
                self.drain_at = now + 20
            self.handler(self)


def test_capture_and_playback_run_under_heap_lock():
    clock = VirtualClock(4)
    world = AudioWorld(clock)
    s = S.Scheduler(clock=clock, idle=world.idle)
    mic = MicI2S(world, FixedSource())
    spk = QuietSpeaker(world)
    counts = [0, 0, 0]  # packets, led on, led off

    def send_audio(pkt):
        counts[0] += 1

    def led(on):
        counts[1 if on else 2] += 1

    pb = Playback(spk, s)
    cap = Capture(mic, s, send_audio, led, playback=pb, offline_bytes=8192)
    s.spawn(pb.run, prio=S.PRIO_AUDIO)
    s.spawn(cap.reader, prio=S.PRIO_AUDIO)
    s.spawn(cap.processor, prio=S.PRIO_LINK)
    s.run(until_ms=600)  # warm up unlocked: first frames, VAD floor
    yield
    assert counts == [0, 0, 0] and cap.frames_in >= 29
    micropython.heap_lock()
    try:
        s.run(until_ms=3400)  # speech from 1.0 s to 2.5 s, end after the hangover
    finally:
        micropython.heap_unlock()
    failed = [t.name for t in s.tasks if t.state >= S.S_DONE]
    assert not failed, failed
    assert cap.utterances == 1 and not cap.streaming
    assert counts[1] == 1 and counts[2] == 1
    assert 75 <= counts[0] <= 75 + 8 + 32, counts
    assert spk.loud >= 12  # the start and end chimes (9 frames each) came out
    assert cap.overruns == 0 and mic.dropped == 0
