"""I2S in the simulator keeps sample-accurate time: exactly `rate` frames per simulated
second, in virtual and in real time, and the parts see every frame at its slot."""
import asyncio
import os
import wave
from array import array

import pytest

import machine
from simutil import run_for, world

RATE = 16000


def mic(bits=16, fmt=None, ibuf=16000):
    return machine.I2S(0, sck=machine.Pin(7), ws=machine.Pin(8), sd=machine.Pin(9),
                       mode=machine.I2S.RX, bits=bits,
                       format=machine.I2S.MONO if fmt is None else fmt, rate=RATE, ibuf=ibuf)


def speaker(ibuf=8000):
    return machine.I2S(1, sck=machine.Pin(5), ws=machine.Pin(6), sd=machine.Pin(41),
                       mode=machine.I2S.TX, bits=16, format=machine.I2S.MONO, rate=RATE,
                       ibuf=ibuf)


@pytest.mark.parametrize("seconds", [1, 7, 60])
def test_nonblocking_capture_delivers_exactly_rate_frames_per_second(seconds):
    with world(seed=seconds) as w:
        i2s = mic()
        buf = bytearray(640)  # 20 ms frames
        got = []

        def done(obj):
            assert obj is i2s
            got.append(w.now_us())
            i2s.readinto(buf)

        i2s.irq(done)
        i2s.readinto(buf)
        run_for(w, seconds)
        frames = 320 * len(got)
        assert frames == seconds * RATE  # the last buffer completes exactly at the end
        # each buffer completes the moment its last frame has been produced, never earlier
        t0 = i2s._stream.t0
        assert got == [t0 + -(-(k + 1) * 320 * 1000000 // RATE) for k in range(len(got))]


def test_blocking_reads_return_only_frames_whose_time_has_come():
    with world() as w:
        i2s = mic(ibuf=64000)
        buf = bytearray(4000)
        assert i2s.readinto(buf) == 0  # nothing produced yet
        total = 0
        for _ in range(50):
            run_for(w, 0.0137)
            total += i2s.readinto(buf) // 2
            assert total == i2s._stream.frame_at(w.now_us())  # never ahead of time
        assert total == (w.now_us() - i2s._stream.t0) * RATE // 1000000


def test_an_unread_buffer_overflows_oldest_first():
    with world() as w:
        i2s = mic(ibuf=3200)  # 100 ms
        run_for(w, 0.5)
        buf = bytearray(32000)
        assert i2s.readinto(buf) == 3200
        assert i2s._stream.dropped == 8000 - 1600


def test_real_time_capture_follows_the_wall_clock():
    with world(virtual=False) as w:
        i2s = mic(ibuf=64000)
        s = i2s._stream
        buf = bytearray(640)
        done = []

        def filled(obj):  # a 20 ms buffer is complete: never before its frames exist
            done.append((len(done) + 1) * 320)
            assert s.delivered == done[-1] <= s.frame_at(w.now_us())
            i2s.readinto(buf)

        i2s.irq(filled)
        i2s.readinto(buf)
        w.loop.run_until_complete(asyncio.sleep(0.2))
        assert done, "no 20 ms buffer completed in 200 ms of real time"
        # blocking reads: each returns exactly the frames the clock has produced by then
        i2s2 = machine.I2S(1, sck=machine.Pin(7), ws=machine.Pin(8), sd=machine.Pin(9),
                           mode=machine.I2S.RX, bits=16, format=machine.I2S.MONO,
                           rate=RATE, ibuf=64000)
        s2 = i2s2._stream
        big = bytearray(64000)
        total = 0
        for _ in range(10):
            w.loop.run_until_complete(asyncio.sleep(0.01))
            before = s2.frame_at(w.now_us())
            total += i2s2.readinto(big) // 2
            after = s2.frame_at(w.now_us())
            assert before <= total <= after


def test_mic_plays_a_wav_into_the_capture(tmp_path):
    path = str(tmp_path / "say.wav")
    clip = array("h", [(i * 37) % 20000 - 10000 for i in range(1600)])
    with wave.open(path, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(RATE)
        f.writeframes(clip.tobytes())
    with world(seed=2) as w:
        i2s = mic(ibuf=64000)
        run_for(w, 0.1)
        w.part("mic").play_wav(path)
        start = i2s._stream.frame_at(w.now_us())
        run_for(w, 0.3)
        buf = bytearray(64000)
        n = i2s.readinto(buf) // 2
        pcm = array("h")
        pcm.frombytes(bytes(buf[:2 * n]))
        heard = pcm[start:start + 1600]
        quiet = max(abs(v) for v in pcm[:start])
        assert quiet < 100  # the room's noise floor
        err = max(abs(a - b) for a, b in zip(heard, clip))
        assert err <= quiet + 1, err  # the clip, on top of the noise, at the right frame


def test_32_bit_stereo_capture_puts_the_mic_in_the_left_slot():
    with world() as w:
        i2s = mic(bits=32, fmt=machine.I2S.STEREO, ibuf=64000)
        run_for(w, 0.01)
        buf = bytearray(8 * 160)
        assert i2s.readinto(buf) == 8 * 160
        words = array("i")
        words.frombytes(bytes(buf))
        assert all(r == 0 for r in words[1::2])
        assert any(left != 0 for left in words[0::2])
        assert all(left & 0xFFFF == 0 for left in words[0::2])


def test_speaker_plays_every_frame_at_its_slot_and_records_it(tmp_path):
    with world() as w:
        amp = w.part("speaker")
        machine.Pin(42, machine.Pin.OUT, value=1)  # SD_MODE high: amplifier on
        i2s = speaker(ibuf=3200)  # 100 ms internal buffer
        tone = array("h", [1000 if (i // 8) % 2 else -1000 for i in range(RATE)])
        data = memoryview(tone.tobytes())
        sent = [0]
        callbacks = []

        def more(obj):
            callbacks.append(w.now_us())
            if sent[0] < len(data):
                chunk = data[sent[0]:sent[0] + 1280]
                sent[0] += len(chunk)
                i2s.write(chunk)

        i2s.irq(more)
        more(i2s)
        run_for(w, 0.5)
        assert amp.playing()
        run_for(w, 1.0)
        assert not amp.playing()
        assert amp.frames_heard == RATE and len(amp.segments) == 1
        assert amp.segments[0][0] == i2s._stream.t0  # the first frame in the first slot
        assert amp.samples() == tone
        out = amp.record_to(str(tmp_path / "out.wav"))
        with wave.open(out) as f:
            assert f.getnframes() == RATE and f.getframerate() == RATE
        assert os.path.getsize(out) > 2 * RATE


def test_a_shut_down_amplifier_plays_nothing():
    with world() as w:
        amp = w.part("speaker")
        machine.Pin(42, machine.Pin.OUT, value=0)
        i2s = speaker()
        assert i2s.write(bytearray(640)) == 640  # the I2S takes it; the amp is off
        assert amp.frames_heard == 0 and amp.frames_muted == 320


def test_a_live_source_is_sampled_by_world_sample_index():
    with world() as w:
        calls = []

        def ramp(start, n, rate):  # sample s of the world's timeline has value s % 1000
            calls.append((start, n, rate))
            return array("h", ((start + i) % 1000 for i in range(n)))

        w.part("mic").source = ramp
        run_for(w, 0.05)
        i2s = mic(ibuf=64000)
        run_for(w, 0.1)
        buf = bytearray(64000)
        n = i2s.readinto(buf) // 2
        pcm = array("h", bytes(buf[:2 * n]))
        s0 = i2s._stream.t0 * RATE // 1000000
        assert n == 1600 and pcm.tolist() == [(s0 + i) % 1000 for i in range(n)]
        assert calls[0][2] == RATE
