# The capture's reader on a stalled microphone: the driver holds a read for 300 ms (its
# DMA or the CPU it needs is busy), and the whole firmware stops for 300 ms (a host
# holding the simulator's process): no second readinto() while one is outstanding (the
# double refuses it, as MicroPython's driver does), nothing raises, the stall is counted
# and the utterance goes on to its normal end.
from fwtest import run_chunks
from audio_signals import Speech, frame_buf, silence
from i2s_double import AudioWorld, MicI2S

from firmware.voice import packet as P
from firmware.voice.capture import Capture, END_VAD
from firmware.runtime import sched as S
from firmware.runtime.clock import VirtualClock

# Peak heap: the capture ring (15 KB), the offline store (4 KB), the packets the test keeps
# (166 B each: the 20-frame driver buffer test keeps ~130 of them).
HEAP_BUDGET = {
    "test_a_300_ms_driver_stall_is_waited_out_and_the_utterance_goes_on": 64000,
    "test_a_300_ms_firmware_stall_is_waited_out_and_the_utterance_goes_on": 56000,
}


class Talk:
    """0.5 s quiet, 2 s speech, then quiet."""

    def __init__(self):
        self.i = 0
        self.sp = Speech(seed=3, level=9000)

    def __call__(self, out):
        buf = out if out is not None else frame_buf()
        if 25 <= self.i < 125:
            self.sp.fill(buf)
        else:
            silence(buf)
        self.i += 1


def rig(ibuf_frames):
    clock = VirtualClock(3)
    world = AudioWorld(clock)
    s = S.Scheduler(clock=clock, idle=world.idle)
    mic = MicI2S(world, Talk(), ibuf_frames=ibuf_frames)
    sent = []
    ends = []
    cap = Capture(mic, s, lambda p: sent.append(bytes(p)), lambda on: None,
                  offline_bytes=4096, on_end=lambda f, last, why, d: ends.append(why))
    tasks = [s.spawn(cap.reader, prio=S.PRIO_AUDIO, name="mic"),
             s.spawn(cap.processor, prio=S.PRIO_LINK, name="capture")]
    return s, world, mic, cap, sent, ends, tasks


def check(cap, sent, ends, tasks, mic, stall_ms):
    for t in tasks:
        assert t.state < 5 and t.restarts == 0, (t.name, t.state)  # alive, never failed
    assert cap.i2s_errors == 0
    assert cap.i2s_stalls >= 1 and cap.stall_ms_max >= stall_ms, (cap.i2s_stalls,
                                                             cap.stall_ms_max)
    assert cap.utterances == 1 and ends == [END_VAD], ends
    assert P.flags(sent[0]) & P.F_START and P.flags(sent[-1]) & P.F_END
    assert [P.seq(p) for p in sent] == list(range(len(sent)))
    # the whole 2 s of speech came through (frames the driver buffer could not hold are
    # the only ones missing) and the utterance ended by its hangover
    assert 100 - mic.dropped <= len(sent) - 8 <= 100 - mic.dropped + 31, (len(sent),
                                                                         mic.dropped)


def test_a_300_ms_driver_stall_is_waited_out_and_the_utterance_goes_on():
    s, world, mic, cap, sent, ends, tasks = rig(ibuf_frames=20)
    world.at = [(1200, lambda: mic.stall(300))]  # in the middle of the speech
    yield from run_chunks(s, 3600)
    assert mic.dropped == 0  # a 400 ms driver buffer holds a 300 ms stall
    check(cap, sent, ends, tasks, mic, 200)


def test_a_300_ms_firmware_stall_is_waited_out_and_the_utterance_goes_on():
    s, world, mic, cap, sent, ends, tasks = rig(ibuf_frames=4)

    def freeze():  # nothing of the firmware runs for 300 ms; the microphone goes on
        world.clock.advance_ms(300)
        world.now += 300
        mic.stall(0)

    world.at = [(1210, freeze)]
    yield from run_chunks(s, 3600)
    assert 10 <= mic.dropped <= 12  # the 80 ms driver buffer overflowed meanwhile
    check(cap, sent, ends, tasks, mic, 100)  # the frames were there when it woke
