# Chimes: rendered locally, frame by frame, into the caller's buffer.
from fwtest import raises
from audio_signals import frame_buf

from firmware.voice import chimes

# Peak heap per test under MicroPython.
HEAP_BUDGET = {
    "test_every_chime_renders_frame_by_frame_with_its_length_and_no_clicks": 72000,
    "test_render_allocates_nothing": 4000,
    "test_pitch_is_right": 8000,
    "test_bad_arguments": 4000,
}


def _render_all(c):
    import array
    out = frame_buf()
    got = array.array("h", bytes(2 * chimes.length(c) + 640))
    start = 0
    while True:
        m = chimes.render(c, out, start, 320)
        for i in range(m):
            got[start + i] = out[i]
        for i in range(m, 320):
            assert out[i] == 0
        start += m
        if m < 320:
            return got, start


def test_every_chime_renders_frame_by_frame_with_its_length_and_no_clicks():
    for c in range(len(chimes.NAMES)):
        s, n = _render_all(c)
        assert n == chimes.length(c), chimes.NAMES[c]
        assert 8000 < max(s) <= 9000 and -9000 <= min(s) < -8000
        assert abs(s[0]) < 300 and abs(s[n - 1]) < 300  # attack and release: no click
        # odd-sized calls give the same samples as 320-sample frames
        out = frame_buf()
        m = chimes.render(c, out, 1000, 77)
        assert m == 77
        for i in range(77):
            assert out[i] == s[1000 + i]
        yield
    assert chimes.length(chimes.START) == 2880  # 180 ms
    assert chimes.length(chimes.LOW_BATTERY) > chimes.length(chimes.ERROR)


def test_render_allocates_nothing():
    import micropython
    out = frame_buf()
    micropython.heap_lock()
    try:
        n = 0
        for start in range(0, 6000, 320):
            n += chimes.render(chimes.ERROR, out, start, 320)
    finally:
        micropython.heap_unlock()
    assert n == chimes.length(chimes.ERROR)


def test_pitch_is_right():
    # zero crossings of the first note of "start" (880 Hz, 70 ms): 2 per cycle
    out = frame_buf()
    chimes.render(chimes.START, out, 160, 320)  # 20 ms inside the note
    z = 0
    for i in range(1, 320):
        if (out[i - 1] < 0) != (out[i] < 0):
            z += 1
    assert 34 <= z <= 36, z  # 880 Hz * 0.02 s * 2 = 35.2


def test_bad_arguments():
    out = frame_buf()
    e = raises(ValueError, chimes.render, 9, out, 0, 320)
    assert "unknown chime 9" in str(e) and "low_battery" in str(e)
    e = raises(ValueError, chimes.render, chimes.START, out, 0, 400)
    assert "do not fit" in str(e)
    raises(ValueError, chimes.length, -1)
