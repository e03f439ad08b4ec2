# The energy VAD: never starts on silence or steady noise, starts on speech-like energy,
# ends after the hangover, caps a ramble at max_ms; allocates nothing per frame.
from fwtest import raises
from audio_signals import Rng, Speech, frame_buf, noise, silence

from firmware.voice import vad as V

# Peak heap per test under MicroPython.
HEAP_BUDGET = {
    "test_silence_and_low_hiss_never_start": 12000,
    "test_steady_noise_present_from_the_start_never_starts": 12000,
    "test_speech_starts_within_the_start_frames_and_ends_after_the_hangover": 16000,
    "test_speech_over_steady_noise_is_detected": 16000,
    "test_a_30_s_ramble_is_cut_at_the_maximum_length": 16000,
    "test_feed_allocates_nothing": 8000,
    "test_bad_parameters_are_refused": 4000,
}


def _run(v, fill, frames, events=None):
    """Feed frames; return [(frame_index, event)] for every event but NONE/SPEECH."""
    out = events if events is not None else []
    pcm = frame_buf()
    base = getattr(v, "_fed", 0)
    for i in range(frames):
        fill(pcm)
        e = v.feed(pcm)
        if e != V.EV_NONE and e != V.EV_SPEECH:
            out.append((base + i, e))
    v._fed = base + frames
    return out


def test_silence_and_low_hiss_never_start():
    v = V.Vad()
    assert _run(v, silence, 500) == []  # 10 s of digital silence
    rng = Rng(9)
    assert _run(v, lambda b: noise(b, rng, 300), 500) == []  # 10 s of low hiss
    assert v.utterances == 0 and not v.speaking


def test_steady_noise_present_from_the_start_never_starts():
    for amp in (1200, 4000):  # mean |x| 600 and 2000: well above min_level
        v = V.Vad()
        rng = Rng(amp)
        assert _run(v, lambda b: noise(b, rng, amp), 750) == [], amp  # 15 s
        assert amp // 3 < v.floor < amp  # the floor found the noise
        yield


def test_speech_starts_within_the_start_frames_and_ends_after_the_hangover():
    v = V.Vad(start_frames=3, hangover_ms=600)
    ev = _run(v, silence, 50)  # 1 s of silence
    sp = Speech(seed=7, level=8000)
    ev = _run(v, sp.fill, 100, ev)  # 2 s of speech (dips < hangover)
    yield
    ev = _run(v, silence, 60, ev)  # 1.2 s of silence
    assert len(ev) == 2, ev
    (f_start, e1), (f_end, e2) = ev
    assert e1 == V.EV_START and e2 == V.EV_END
    assert 50 + 2 <= f_start <= 50 + 6, f_start  # 3 loud frames (the onset ramps up)
    last_loud = 149
    assert last_loud < f_end <= last_loud + 1 + 30 + 1, f_end  # 600 ms = 30 frames
    assert f_end >= 150 + 30 - 1 - 8  # not before (the last syllable may fade early)
    assert v.utterances == 1 and not v.speaking


def test_speech_over_steady_noise_is_detected():
    rng = Rng(3)
    v = V.Vad()
    _run(v, lambda b: noise(b, rng, 1000), 100)
    sp = Speech(seed=5, level=9000, noise_amp=1000)
    ev = _run(v, sp.fill, 100)
    assert ev and ev[0][1] == V.EV_START, ev
    yield
    ev = _run(v, lambda b: noise(b, rng, 1000), 100)
    assert [e for _, e in ev] == [V.EV_END], ev


def test_a_30_s_ramble_is_cut_at_the_maximum_length():
    v = V.Vad(max_ms=15000, hangover_ms=600)
    ev = _run(v, silence, 25)
    sp = Speech(seed=8, level=7000)  # syllables with short dips, no pause long enough
    for _ in range(15):  # 30 s in 2 s steps (yield: let MicroPython collect)
        ev = _run(v, sp.fill, 100, ev)
        yield
    kinds = [e for _, e in ev]
    assert kinds == [V.EV_START, V.EV_MAX], ev  # and no restart while the ramble goes on
    assert ev[1][0] - ev[0][0] == 15000 // 20 - 3, ev  # length counts the 3 start frames
    ev = _run(v, silence, 40)  # quiet again: the cooldown ends ...
    ev = _run(v, Speech(seed=1).fill, 20, ev)  # ... and a new utterance can start
    assert [e for _, e in ev] == [V.EV_START], ev


def test_feed_allocates_nothing():
    import micropython
    v = V.Vad()
    loud = frame_buf()
    Speech(seed=2, level=9000).fill(loud)
    quiet = frame_buf()
    micropython.heap_lock()
    try:
        for k in range(200):
            v.feed(loud if (k // 20) & 1 else quiet)
    finally:
        micropython.heap_unlock()
    assert v.utterances >= 1


def test_bad_parameters_are_refused():
    e = raises(ValueError, V.Vad, start_frames=0)
    assert "start_frames" in str(e)
    raises(ValueError, V.Vad, hangover_ms=5)
    raises(ValueError, V.Vad, ratio_q4=8)
    raises(ValueError, V.Vad, stride=0)
