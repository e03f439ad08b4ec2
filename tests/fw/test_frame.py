# Frame codec. Runs under CPython (pytest) and MicroPython (tests/mpy/run.py).
from fwtest import raises

from firmware.protocol import frame as F
from firmware.protocol.frame import FrameError, Reassembler
from corpus_bad import FRAME_BAD


def _unhex(h):
    return bytes(int(h[i:i + 2], 16) for i in range(0, len(h), 2))


def _msg(n):
    return bytes((i * 7 + 3) & 0xFF for i in range(n))


def test_header_layout():
    f = F.encode(5, F.F_FIRST | F.F_LAST, 0x1234, b"ab")
    assert f == b"\x53\x34\x12ab"
    assert F.parse_header(f) == (5, F.F_FIRST | F.F_LAST, 0x1234)


def test_split_respects_mtu_and_reassembles():
    # A generator test: each yield lets MicroPython's GC run, so the heap budget applies
    # to one MTU's worth of work at a time.
    for mtu in (23, 64, 185, 247, 517):
        yield
        for n in (0, 1, mtu - 6, mtu - 5, 3 * (mtu - 6) + 1, 1000):
            msg = _msg(n)
            frames = F.split(3, 77, msg, mtu)
            assert len(frames) == F.frame_count(n, mtu), (mtu, n)
            assert all(len(fr) <= mtu - 3 for fr in frames), (mtu, n)
            r = Reassembler(max_message=2048)
            out = None
            for fr in frames:
                assert out is None
                out = r.feed(fr)
            assert out is not None and out[0] == 3 and out[2] == 77
            assert bytes(out[3]) == msg, (mtu, n)


def test_interleaved_channels_reassemble_independently():
    a = F.split(1, 1, _msg(300), 64)
    rev = bytes(reversed(_msg(200)))
    b = F.split(2, 9, rev, 64)
    r = Reassembler(1024)
    got = {}
    for i in range(max(len(a), len(b))):
        for fs in (a, b):
            if i < len(fs):
                res = r.feed(fs[i])
                if res:
                    got[res[0]] = bytes(res[3])
    assert got == {1: _msg(300), 2: rev}


def test_control_frames_pass_straight_through():
    r = Reassembler()
    ch, flags, seq, body = r.feed(F.encode(0, F.F_CTRL, 42, b"\x05"))
    assert (ch, flags & F.F_CTRL, seq, bytes(body)) == (0, F.F_CTRL, 42, b"\x05")


def test_bad_frames_are_refused_and_counted():
    r = Reassembler(max_message=100)
    for h in FRAME_BAD:
        raises(FrameError, r.feed, _unhex(h))
    assert r.errors == len(FRAME_BAD)
    # a new start in the middle of a message drops the old one, with a reason
    parts = F.split(1, 5, _msg(150), 64)
    r = Reassembler(1000)
    r.feed(parts[0])
    e = raises(FrameError, r.feed, F.split(1, 6, _msg(150), 64)[0])
    assert "started before" in str(e)
    # a fragment of another message inside one
    r = Reassembler(1000)
    r.feed(parts[0])
    other = bytearray(parts[1])
    other[1] = 9
    assert "inside message" in str(raises(FrameError, r.feed, bytes(other)))
    # oversized messages
    r = Reassembler(max_message=100)
    big = F.split(1, 1, _msg(150), 64)
    r.feed(big[0])
    assert "exceeds" in str(raises(FrameError, r.feed, big[1]))
    assert "exceeds" in str(raises(FrameError, r.feed, F.encode(1, 3, 2, _msg(101))))
    # after errors the reassembler still works
    assert bytes(r.feed(F.encode(1, 3, 3, b"ok"))[3]) == b"ok"


def test_reset_forgets_partial_messages():
    r = Reassembler(1000)
    parts = F.split(4, 1, _msg(200), 64)
    r.feed(parts[0])
    r.reset()
    raises(FrameError, r.feed, parts[1])  # its start was forgotten


def test_argument_errors():
    raises(FrameError, F.max_payload, 6)
    raises(FrameError, F.encode, 16, 0, 0)
    raises(FrameError, F.split, -1, 0, b"", 23)


def test_per_channel_message_limits():
    r = Reassembler([100, 300])  # channel 0: 100 bytes; 1 and every later channel: 300
    assert r.limit(0) == 100 and r.limit(1) == 300 and r.limit(15) == 300
    assert "exceeds 100" in str(raises(FrameError, r.feed, F.encode(0, 3, 1, _msg(101))))
    assert bytes(r.feed(F.encode(7, 3, 1, _msg(250)))[3]) == _msg(250)
    parts = F.split(1, 4, _msg(290), 64)
    for fr in parts[:-1]:
        assert r.feed(fr) is None
    assert r.in_progress(1) == 4 and r.in_progress(0) == -1
    assert bytes(r.feed(parts[-1])[3]) == _msg(290)
    assert r.in_progress(1) == -1
