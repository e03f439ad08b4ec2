# The frame ring: FIFO order, overrun counting, and no allocation on its hot path.
from fwtest import raises
from audio_signals import FRAME, frame_buf

from firmware.voice.ring import FrameRing, FRAME_BYTES, FRAME_SAMPLES

# Peak heap per test under MicroPython.
HEAP_BUDGET = {
    "test_fifo_order_and_views_share_one_buffer": 12000,
    "test_overrun_overwrites_the_oldest_and_counts_it_without_allocating": 12000,
    "test_bad_sizes_are_refused": 10000,
}


def _fill(slot, tag):
    for i in range(len(slot)):
        slot[i] = tag


def test_fifo_order_and_views_share_one_buffer():
    r = FrameRing(4)
    assert FRAME_SAMPLES == 320 and FRAME_BYTES == 640 and r.frame_bytes == 640
    assert len(r.pcm) == 4 * 320
    assert r.peek() is None and not r.pop()
    for tag in (1, 2, 3):
        _fill(r.write_slot(), tag)
        r.commit()
    assert len(r) == 3 and r.overruns == 0
    assert r.peek(0)[0] == 1 and r.peek(2)[319] == 3 and r.peek(3) is None
    assert r.pop() and r.peek()[0] == 2
    f = frame_buf()
    _fill(f, -7)
    r.push(f)
    assert len(r) == 3 and r.peek(2)[100] == -7
    r.drop_oldest(1)
    assert len(r) == 1 and r.peek()[0] == -7
    r.reset()
    assert len(r) == 0


def test_overrun_overwrites_the_oldest_and_counts_it_without_allocating():
    import micropython
    r = FrameRing(3)
    micropython.heap_lock()  # MicroPython: any allocation raises MemoryError
    try:
        for tag in range(1, 8):  # 7 frames into 3 slots: 4 overruns
            _fill(r.write_slot(), tag)
            r.commit()
        oldest = r.peek(0)[0]
        newest = r.peek(2)[0]
        r.pop()
        n = len(r)
    finally:
        micropython.heap_unlock()
    assert r.overruns == 4 and r.committed == 7
    assert (oldest, newest, n) == (5, 7, 2)


def test_bad_sizes_are_refused():
    raises(ValueError, FrameRing, 1)
    r = FrameRing(2)
    e = raises(ValueError, r.push, frame_buf()[0:FRAME - 1])
    assert "320 samples" in str(e)
