# Link session flow: priorities within a frame, credits, a full outbox, what send refuses,
# audio (numbered, dropped oldest first, gaps reported), an application that raises. Runs
# under CPython (pytest) and MicroPython (tests/mpy/run.py). Two Sessions talk through the
# in-memory pipe of linkpipe.py (it models the transport).
from fwtest import raises

from linkpipe import Pipe, open_pipe as _open_pipe
from firmware.protocol.channels import (AUDIO, BadChannel, CONTROL, EVENTS, FILE, LOG,
                                    LinkError, MessageTooLarge, WINDOW)
from firmware.runtime.cbor import CBORError
from firmware.protocol.session import EV_AUDIO_GAP, EV_ROOM, Session


def test_control_and_events_overtake_a_file_transfer_within_one_frame():
    p = _open_pipe(room=1)
    order = []
    p.tap = lambda side, fr: order.append(fr[0] >> 4) if side == 0 and not fr[0] & 4 else None
    for _ in range(4):
        assert p.s[0].send(FILE, bytes(1900))
    yield
    p.step(1)
    p.step(1)
    start = len(order)
    p.s[0].send(LOG, "log line")
    p.s[0].send(EVENTS, "tap")
    p.s[0].send(CONTROL, "stop")
    for _ in range(8):
        p.step(1)
    yield
    after = order[start:]
    assert after[0] in (FILE, CONTROL), after  # at most the one frame already cut
    i = after.index(CONTROL)
    assert i <= 1 and after[i + 1] == EVENTS, after
    assert LOG not in after[:i + 2] and FILE in after[i + 2:], after
    p.room = None
    p.run(500)
    yield
    chans = [ch for ch, _ in p.sides[1].got]
    assert chans.count(FILE) == 4 and chans.index(CONTROL) < chans.index(LOG)


def test_credits_bound_what_a_slow_consumer_receives():
    p = _open_pipe()
    p.sides[1].hold = True  # the host app keeps every message (and its credit)
    data_frames = []
    p.tap = lambda side, fr: data_frames.append(fr) if side == 0 and fr[0] >> 4 == EVENTS else None
    n = 0
    while p.s[0].send(EVENTS, n):
        n += 1
    assert n == 16  # the outbox is full: send says so
    p.run(2000)
    w = WINDOW[EVENTS]
    assert len(p.sides[1].got) == w and len(data_frames) == w  # never past the credit
    assert p.s[0].pending(EVENTS) == 16 - w and p.s[0].stats()["retransmits"] == 0
    p.s[1].consumed(EVENTS)  # one credit back: one more message
    p.run(100)
    assert len(p.sides[1].got) == w + 1
    p.sides[1].hold = False
    for _ in range(w):
        p.s[1].consumed(EVENTS)
    p.run(200)
    assert [m for _, m in p.sides[1].got] == list(range(16))
    raises(LinkError, p.s[1].consumed, EVENTS)  # nothing held any more
    assert p.s[0].send(EVENTS, "room again")


def test_full_outbox_refuses_then_reports_room():
    p = _open_pipe()
    p.disconnect()  # nothing can leave
    k = 0
    while p.s[0].send(CONTROL, k):
        k += 1
    assert k == 8 and p.s[0].outbox_room(CONTROL)[0] == 0
    assert p.s[0].stats()["outbox_full"] == 1
    assert EV_ROOM not in p.sides[0].kinds()
    p.connect()
    p.run(100)
    assert ("room", CONTROL) in p.sides[0].events
    assert [m for _, m in p.sides[1].got] == list(range(8))


def test_send_rejects_what_can_never_be_sent():
    p = _open_pipe()
    s = p.s[0]
    assert isinstance(raises(BadChannel, s.send, AUDIO, b"x"), LinkError)
    raises(BadChannel, s.send, 9, 1)
    e = raises(MessageTooLarge, s.send, CONTROL, bytes(600))
    assert "control" in str(e) and "512" in str(e)
    raises(MessageTooLarge, s.send_audio, bytes(600))
    raises(CBORError, s.send, EVENTS, object())
    raises(LinkError, s.link_up, 20)
    raises(LinkError, Session, "phone", None, "v", [], None, None, None)
    assert s.pending(CONTROL) == 0 and s.pending(EVENTS) == 0  # nothing half-queued


def test_audio_is_numbered_drops_oldest_and_gaps_are_reported():
    p = _open_pipe(room=2)
    results = [p.s[0].send_audio(bytes([i]) * 100) for i in range(20)]
    # 2 fit in the transport, 1 waits in the session's frame buffer, 8 in the queue;
    # from then on each new packet pushes the oldest queued one out
    assert results == [True] * 11 + [False] * 9
    assert p.s[0].stats()["audio_dropped"] == 9
    p.room = None
    p.run(50)
    got = [pkt[0] for ch, pkt in p.sides[1].got if ch == AUDIO]
    assert got == [0, 1, 2] + list(range(12, 20)), got
    gaps = [d for k, d in p.sides[1].events if k == EV_AUDIO_GAP]
    assert gaps == [(3, 9)]
    assert p.s[1].stats()["audio_lost"] == 9


def test_audio_cut_by_a_disconnect_is_reported_missing_not_resent():
    p = Pipe(room=4)
    p.connect(23)  # small MTU: a packet takes three frames
    p.run(20)
    for i in range(3):
        p.s[0].send_audio(bytes([i]) * 40)
    assert len(p.q[0]) == 4  # packet 0 and the start of packet 1; packet 2 still queued
    for fr in p.q[0]:  # they arrive, then the link drops before the transport has room
        p.s[1].feed(fr)
    p.disconnect()
    p.connect(23)
    p.run(50)
    p.s[0].send_audio(bytes([3]) * 40)
    p.run(50)
    got = [pkt[0] for ch, pkt in p.sides[1].got if ch == AUDIO]
    assert got == [0, 2, 3], got  # packet 1 was half sent: gone
    assert [d for k, d in p.sides[1].events if k == EV_AUDIO_GAP] == [(1, 1)]
    assert p.s[0].stats()["audio_dropped"] == 1


def test_on_message_that_raises_is_counted_and_the_link_goes_on():
    p = _open_pipe()

    def boom(ch, obj):
        if obj == "bad":
            raise ValueError("app bug")
        p.sides[1].got.append((ch, obj))

    p.s[1]._on_message = boom
    for m in ("a", "bad", "b"):
        p.s[0].send(CONTROL, m)
    p.run(50)
    assert p.sides[1].got == [(CONTROL, "a"), (CONTROL, "b")]
    assert p.s[1].stats()["app_errors"] == 1
    errs = [d for k, d in p.sides[1].events if k == "app_error"]
    assert len(errs) == 1 and "ValueError: app bug" in errs[0]
