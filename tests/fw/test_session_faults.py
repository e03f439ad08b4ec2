# A misbehaving peer: malformed, misplaced and out-of-window frames are rejected and
# counted, one by one, with a reason; the session keeps working. Runs under CPython and
# MicroPython.
from linkpipe import Pipe
from firmware.protocol.channels import PROTOCOL_VERSION
from firmware.protocol import frame as F
from firmware.runtime.cbor import dumps
from firmware.protocol.channels import AUDIO, CONTROL, EVENTS, LINK, RELIABLE, WINDOW
from firmware.protocol.session import OPEN

_FL = F.F_FIRST | F.F_LAST


def _open_pipe():
    p = Pipe()
    p.connect()
    p.run(5)
    for i in range(5):
        p.s[0].send(CONTROL, i)
        p.s[0].send(EVENTS, i)
    p.run(50)
    assert len(p.sides[1].got) == 10
    return p


def _bad_frames(exp):
    """(frame, words its rejection reason must contain) for a host expecting CONTROL seq exp."""
    return [
        (b"", "shorter than its header"),
        (b"\x10", "shorter than its header"),
        (b"\x18\x00\x00", "reserved flag"),
        (b"\x73\x00\x00\x01", "unknown channel 7"),
        (F.encode(AUDIO, F.F_CTRL, 0, b"\x05"), "control frame on audio"),
        (F.encode(CONTROL, F.F_CTRL, 5, b"\x01\x02"), "ack on control is 5 bytes"),
        (F.encode(EVENTS, F.F_CTRL, 0x1234, b"\x04"), "never sent"),
        (F.encode(LINK, F.F_CTRL, 0, b"\x01"), "keepalive with a 1-byte body"),
        (F.encode(CONTROL, _FL, exp + 1000, dumps("far")), "outside the window"),
        (F.encode(CONTROL, _FL, exp - 300, dumps("old")), "outside the window"),
        (F.encode(CONTROL, _FL, exp + WINDOW[CONTROL], dumps("no credit")),
         "outside the window"),
        (F.encode(CONTROL, F.F_LAST, exp, b"\x01"), "without its start"),
        (F.encode(CONTROL, _FL, exp, b"\xff"), "unexpected break"),
        (F.encode(CONTROL, _FL, exp, b"\x82\x01"), "cannot fit"),
        (F.encode(LINK, _FL, 0, b"\x01"), "not a map"),
        (F.encode(LINK, _FL, 0, dumps({0: 9})), "unknown link message kind"),
        (F.encode(LINK, _FL, 0, b"\xa1\x00\x19"), "truncated"),
        (F.encode(LINK, _FL, 0, dumps({0: 2, 1: 5})), "bye without a reason"),
    ]


def test_malformed_and_out_of_window_frames_are_rejected_one_by_one():
    p = _open_pipe()
    h = p.s[1]
    exp = 5  # the host expects CONTROL message 5 next
    for fr, words in _bad_frames(exp):
        before = h.stats()["bad_frames"]
        p.inject(1, fr)
        p.flush()
        st = h.stats()
        assert st["bad_frames"] == before + 1, (fr, st["last_error"])
        assert words in st["last_error"], (words, st["last_error"])
    # a message larger than the channel allows: refused when it passes the limit
    before = h.stats()["bad_frames"]
    for fr in F.split(CONTROL, exp, bytes(600), 247):
        p.inject(1, fr)
    p.flush()
    assert h.stats()["bad_frames"] == before + 1
    assert "exceeds 512" in h.stats()["last_error"]
    assert len(p.sides[1].got) == 10 and h.state == OPEN
    assert p.sides[1].kinds() == ["open"]
    # and the session goes on as if nothing happened, both ways
    for i in range(5, 10):
        p.s[0].send(CONTROL, i)
        p.s[1].send(EVENTS, i)
    p.run(200)
    assert [m for ch, m in p.sides[1].got if ch == CONTROL] == list(range(10))
    assert [m for ch, m in p.sides[0].got if ch == EVENTS] == list(range(5, 10))
    assert p.s[0].stats()["bad_frames"] == 0


def test_frames_that_do_not_belong_to_the_session_state_are_rejected():
    p = Pipe()
    p.up = True
    p.s[1].link_up(247)
    p.q[1].clear()
    h = p.s[1]
    p.inject(1, F.encode(CONTROL, F.F_CTRL, 0, b"\x04"))  # an ack before the hello
    p.flush()
    assert h.stats()["bad_frames"] == 1 and "outside an open session" in h.stats()["last_error"]
    p.inject(1, F.encode(CONTROL, _FL, 0, dumps("early")))  # data before the hello
    p.flush()
    assert h.stats()["bad_frames"] == 2 and "before the hello" in h.stats()["last_error"]
    h.link_down()
    h.feed(F.encode(CONTROL, _FL, 0, dumps("late")))
    assert h.stats()["bad_frames"] == 3 and "link is down" in h.stats()["last_error"]
    assert p.sides[1].got == []


def test_random_garbage_between_real_frames_loses_and_repeats_nothing():
    # A deterministic stream of junk frames interleaved with real traffic. Junk may break
    # a real message in reassembly; the retransmission then repairs it.
    p = _open_pipe()
    got = []
    p.sides[1].route = lambda ch, m: got.append((ch, m[0], len(m[1]))) or True
    x = 12345
    sent = []
    k = 0
    for _round in range(30):
        for _ in range(3):
            ch = RELIABLE[k % 4]
            if p.s[0].send(ch, [k, "w" * (k * 11 % 400)]):
                sent.append((ch, k, k * 11 % 400))
            k += 1
        for _ in range(6):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
            n = x % 40
            junk = bytes(((x >> (i % 23)) + i * 7) & 0xFF for i in range(n))
            p.inject(1, junk)
            p.step(1)
        p.run(20)
        yield
    for _ in range(20):
        p.run(200)
        yield
    for ch in RELIABLE:
        assert [g for g in got if g[0] == ch] == [m for m in sent if m[0] == ch]
    for side in (0, 1):
        assert p.s[side].state == OPEN
    assert p.s[1].stats()["bad_frames"] > 100


def _hello_frames(sid, peer, rx, tx, credit, role="host"):
    from firmware.protocol import hello as H
    msg = H.build(PROTOCOL_VERSION, role, "host-1.0", "pc", [], sid, peer, rx, tx, credit, False)
    return F.split(LINK, 0, dumps(msg), 247)


def test_a_hello_with_impossible_resume_state_closes_the_session():
    for case in ("acks unsent", "dropped undelivered"):
        p = _open_pipe()  # the glasses sent CONTROL 0..4 and EVENTS 0..4, all acknowledged
        p.disconnect()
        p.up = True
        p.s[0].link_up(247)
        if case == "acks unsent":  # the host claims to expect CONTROL 9: never sent
            frames = _hello_frames(2002, 1001, [9, 5, 0, 0], [0, 0, 0, 0], [4, 8, 16, 4])
            words = "unacknowledged"
        else:  # the host says its oldest unacked CONTROL is 3 while the glasses expect 0
            frames = _hello_frames(2002, 1001, [5, 5, 0, 0], [3, 0, 0, 0], [4, 8, 16, 4])
            words = "never delivered"
        for fr in frames:
            p.s[0].feed(fr)
        assert p.s[0].state != OPEN
        reason = p.sides[0].events[-1]
        assert reason[0] == "closed" and words in reason[1], reason
        assert p.q[0] and p.q[0][-1][0] >> 4 == LINK  # the bye went out


def test_callbacks_that_raise_are_counted_and_the_session_goes_on():
    p = Pipe()

    def bad_event(kind, detail):
        raise RuntimeError("app bug in on_event")

    p.s[1]._on_event = bad_event
    p.connect()
    p.run(5)
    st = p.s[1].stats()
    assert st["state"] == "open" and st["app_errors"] == 1
    assert "on_event(open) raised RuntimeError" in st["last_error"]


def test_bad_configuration_is_refused():
    from firmware.protocol.channels import LinkError
    from firmware.protocol.session import Session
    from fwtest import raises
    cb = lambda *a: None  # noqa: E731
    e = raises(LinkError, Session, "glasses", None, "v", [], cb, cb, cb,
               windows=(4, 0, 0, 16, 4))
    assert "window for events" in str(e)
    raises(LinkError, Session, "glasses", None, "v", [], cb, cb, cb, max_mtu=22)
    s = Session("host", None, "v", [], cb, cb, cb)
    assert 0 <= s.sid < (1 << 30)  # a session id was drawn


def test_a_held_frame_waits_for_writable_not_for_a_timer():
    # The transport refuses a frame (its buffers are full) while a keepalive and an ack
    # fall due: poll() must not answer 0 ms (the caller would spin without time moving);
    # the held frame goes when the transport says writable(), then everything else.
    p = Pipe(room=2)
    p.connect()
    p.run(5)
    for i in range(6):
        p.s[1].send(CONTROL, i)  # the glasses will owe acks
        p.s[0].send(EVENTS, "x" * 300)  # more frames than the pipe holds
    p.step()  # the host's messages arrive; the glasses' frames fill the pipe
    g = p.s[0]
    p.clock.advance_ms(1500)  # past the keepalive and the delayed ack
    p.up = False  # the transport takes nothing now (pipe full / link busy)
    waits = [g.poll() for _ in range(3)]
    assert all(w > 0 for w in waits), waits
    p.up = True
    p.run(200)
    got = [m for ch, m in p.sides[1].got if ch == EVENTS]
    assert got == ["x" * 300] * 6
    assert [m for ch, m in p.sides[0].got if ch == CONTROL] == list(range(6))
