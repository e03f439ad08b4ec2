# Link session: hello, reliable delivery, exactly-once across reconnects, keepalive, peer
# reset (priorities, credits and audio: test_session_flow.py). Runs under CPython (pytest)
# and MicroPython (tests/mpy/run.py). Two Sessions talk through the in-memory pipe of
# linkpipe.py (it models the transport).
from linkpipe import Pipe, open_pipe as _open_pipe
from firmware.protocol.channels import PROTOCOL_VERSION
from firmware.protocol import frame as F
from firmware.protocol.channels import CONTROL, EVENTS, FILE, LOG, RELIABLE
from firmware.protocol.session import CLOSED, OPEN

# Both sessions, the pipe's frames and the test's own messages share the heap here; the
# glasses' session alone is measured in test_session_memory.py.
# (80 KB since the runner reads each test's base only after the previous test's generator
# is let go: before, that test's data inflated the base and this peak read 19 KB.)
HEAP_BUDGET = {"test_exactly_once_across_disconnects_both_ways": 80 * 1024}


def _per_channel(items):
    out = {}
    for ch, obj in items:
        out.setdefault(ch, []).append(obj)
    return out


def test_hello_opens_both_sides_and_describes_the_peer():
    p = _open_pipe()
    g, h = p.sides
    assert g.kinds() == ["open"] and h.kinds() == ["open"]
    peer = g.events[0][1]
    assert peer["role"] == "host" and peer["version"] == "host-1.0"
    assert peer["caps"] == ["rpc", "asr"] and peer["resumed"] is False
    assert h.events[0][1]["board"] == "test-board"
    assert p.s[1].peer_sid == 1001 and p.s[0].peer_sid == 2002


def test_version_mismatch_is_refused_on_both_sides_naming_both_versions():
    p = Pipe()
    p.s[1].protocol = 1  # a host speaking the protocol before this one
    p.connect()
    p.run(5)
    for side in (0, 1):
        s = p.s[side]
        assert s.state == CLOSED, side
        kinds = p.sides[side].kinds()
        assert kinds == ["closed"], (side, kinds)
        reason = p.sides[side].events[0][1]
        assert "version 1" in reason and "version 2" in reason, reason
        assert "fw-1.0" in reason and "host-1.0" in reason, reason
    # nothing else flows on a closed session, and no timer runs
    assert p.s[0].send(EVENTS, "queued") is True
    assert p.s[0].poll() == -1
    p.run(50)
    assert p.sides[1].got == []


def test_bad_hello_closes_with_the_reason_and_the_peer_hears_it():
    p = Pipe()
    p.up = True
    p.s[0].link_up(247)
    p.q[0].clear()  # the glasses' own hello never arrives
    # a peer claiming to be glasses too
    from firmware.protocol import hello as H
    from firmware.runtime.cbor import dumps
    bad = H.build(PROTOCOL_VERSION, "glasses", "x", "b", [], 5, None, [0, 0, 0, 0], [0, 0, 0, 0],
                  [4, 4, 4, 4], False)
    for fr in F.split(15, 0, dumps(bad), 247):
        p.s[0].feed(fr)
    assert p.s[0].state == CLOSED
    reason = p.sides[0].events[-1][1]
    assert "both sides say they are the glasses" in reason
    # the bye it sent closes a real peer with the same reason
    p.s[1].link_up(247)
    p.flush()
    assert p.s[1].state == CLOSED
    assert p.sides[1].events[-1] == ("closed", "closed by the peer: " + reason)


def test_reliable_messages_arrive_in_order_on_every_channel():
    p = _open_pipe()
    sent = ([], [])
    for i in range(40):
        ch = RELIABLE[i % 4]
        for side in (0, 1):
            obj = {"n": i, "from": side, "pad": "x" * (i * 7)}
            if p.s[side].send(ch, obj):
                sent[side].append((ch, obj))
        p.run(3)
        yield
    p.run(500)
    assert _per_channel(p.sides[1].got) == _per_channel(sent[0])
    assert _per_channel(p.sides[0].got) == _per_channel(sent[1])
    st = p.s[0].stats()
    assert st["retransmits"] == 0 and st["duplicates"] == 0 and st["bad_frames"] == 0
    assert st["goodput_out"] == p.s[1].stats()["goodput_in"]


def test_exactly_once_across_disconnects_both_ways():
    # Messages in flight both ways, the link cut at a different point each round.
    p = _open_pipe()
    sent = ([], [])
    k = 0
    for rnd in range(12):
        for side in (0, 1):
            for _ in range(6):
                ch = RELIABLE[k % 4]
                obj = [side, k, "y" * (k % 300)]
                k += 1
                if p.s[side].send(ch, obj):
                    sent[side].append((ch, obj))
        p.step(rnd % 5)  # some frames cross, the rest are lost with the link
        yield
        p.disconnect()
        p.run(20)
        p.connect()
        p.run(rnd * 3)
        yield
    for _ in range(30):
        p.run(100)
        yield
    for side in (0, 1):
        got = _per_channel(p.sides[1 - side].got)
        assert got == _per_channel(sent[side]), side
        assert p.s[side].stats()["connects"] == 13
    assert sum(p.s[0].stats()[x] for x in ("retransmits",)) > 0  # resending happened


def test_multi_frame_message_cut_by_a_disconnect_is_delivered_once():
    p = _open_pipe()
    big = bytes((i * 13) & 0xFF for i in range(2000))  # 9 frames at MTU 247
    assert p.s[0].send(FILE, big)
    assert len(p.q[0]) == 9
    p.step(4)  # four fragments arrive, then the link drops
    assert p.sides[1].got == []
    p.disconnect()
    p.connect()
    p.run(200)
    assert p.sides[1].got == [(FILE, big)]
    assert p.s[0].stats()["retransmits"] == 1


def test_delivered_but_unacknowledged_is_not_delivered_again():
    p = _open_pipe()
    assert p.s[0].send(EVENTS, "once")
    p.step()  # delivered; the ack is still waiting for its delay
    assert p.sides[1].got == [(EVENTS, "once")] and p.q[1] == []
    p.disconnect()
    p.connect()
    p.run(100)
    assert p.sides[1].got == [(EVENTS, "once")]
    # the hello told the glasses it had arrived: nothing was resent
    assert p.s[0].stats()["retransmits"] == 0 and p.s[1].stats()["duplicates"] == 0
    assert p.s[0].pending(EVENTS) == 0


def test_duplicates_are_discarded_and_counted():
    p = _open_pipe()
    frames = []
    p.tap = lambda side, fr: frames.append(fr) if side == 0 else None
    for i in range(5):
        p.s[0].send(CONTROL, i)
    p.run(50)
    assert [m for _, m in p.sides[1].got] == [0, 1, 2, 3, 4]
    for fr in frames[1:3]:  # replay messages 1 and 2
        p.inject(1, fr)
    p.run(50)
    assert [m for _, m in p.sides[1].got] == [0, 1, 2, 3, 4]
    assert p.s[1].stats()["duplicates"] == 2 and p.s[1].stats()["bad_frames"] == 0
    p.s[0].send(CONTROL, 5)
    p.run(50)
    assert p.sides[1].got[-1] == (CONTROL, 5)


def test_retransmission_after_a_lost_frame_uses_the_measured_rtt():
    p = _open_pipe()
    for i in range(6):
        p.s[0].send(EVENTS, i)
        p.run(30)
    st = p.s[0].stats()
    assert 0 <= st["rtt_ms"] <= 20 and st["rto_ms"] == 100  # delayed acks; RTO at its floor
    p.drop = lambda side, fr: side == 0  # the next frame is lost
    p.s[0].send(EVENTS, "lost once")
    p.drop = None
    p.run(99)
    assert p.sides[1].got[-1] == (EVENTS, 5)
    p.run(20)
    assert p.sides[1].got[-1] == (EVENTS, "lost once")
    assert p.s[0].stats()["retransmits"] == 1


def test_retries_are_bounded_then_the_peer_is_reported_dead():
    p = _open_pipe(glasses_kw={"max_retries": 3})
    p.drop = lambda side, fr: side == 1 and fr[0] & F.F_CTRL and (fr[0] >> 4) != 15
    p.s[0].send(CONTROL, "never acked")
    p.run(30000)
    dead = [d for k, d in p.sides[0].events if k == "dead"]
    assert dead == ["no ack on control after 3 retransmissions"], p.sides[0].events
    assert p.s[0].stats()["retransmits"] == 3
    assert [m for _, m in p.sides[1].got] == ["never acked"]


def test_keepalive_on_an_idle_link_and_dead_peer_detection():
    p = _open_pipe()
    p.run(5000)
    for side in (0, 1):
        st = p.s[side].stats()
        assert 4 <= st["keepalives_out"] <= 6, st
        assert "dead" not in p.sides[side].kinds()
    p.drop = lambda side, fr: side == 1  # the host goes silent
    p.run(2900)
    assert "dead" not in p.sides[0].kinds()
    p.run(200)
    dead = [d for k, d in p.sides[0].events if k == "dead"]
    assert len(dead) == 1 and "silent" in dead[0], dead
    assert "dead" not in p.sides[1].kinds()  # it still hears the glasses


def test_small_mtu_fragments_everything():
    p = Pipe()
    p.connect(23)  # 17 payload bytes a frame: even the hello takes several
    p.run(20)
    assert p.s[0].state == OPEN and p.s[1].state == OPEN
    msgs = [{"i": i, "t": "z" * (i * 25)} for i in range(12)]
    for m in msgs:
        assert p.s[1].send(EVENTS, m)
    p.step(7)
    p.disconnect()
    yield
    p.connect(23)
    for _ in range(100):
        p.run(20)
        yield
    assert [m for _, m in p.sides[0].got] == msgs


def test_hello_lost_before_the_peer_listened_is_sent_again():
    p = Pipe()
    p.up = True
    p.s[1].link_up(247)  # the host is up first; its hello reaches glasses that are not
    assert p.s[1].send(CONTROL, "early")
    p.flush()
    assert p.s[0].stats()["bad_frames"] == 1  # "frame while the link is down"
    p.s[0].link_up(247)
    p.run(10)
    assert p.s[1].state == OPEN and p.s[0].state != OPEN
    p.run(1500)  # the glasses repeat their hello; the host answers it
    assert p.s[0].state == OPEN
    assert p.sides[0].got == [(CONTROL, "early")]


def test_peer_reset_starts_a_new_session_and_keeps_what_was_not_acknowledged():
    p = _open_pipe()
    for i in range(3):
        p.s[1].send(CONTROL, ["before", i])
        p.s[0].send(EVENTS, ["old glasses", i])
    p.run(50)
    assert len(p.sides[0].got) == 3 and len(p.sides[1].got) == 3
    p.s[0].send(EVENTS, "lost with the reset")
    p.disconnect()
    p.s[1].send(CONTROL, ["while away", 0])
    p.s[1].send(CONTROL, ["while away", 1])
    p.replace(0, session_id=3003)  # the glasses reboot: a fresh session
    p.connect()
    p.run(100)
    ev = [d for k, d in p.sides[1].events if k == "open"]
    assert ev[-1]["peer_reset"] is True and ev[-1]["resumed"] is False
    assert p.sides[0].got == [(CONTROL, ["while away", 0]), (CONTROL, ["while away", 1])]
    p.s[0].send(EVENTS, "new glasses")
    p.run(100)
    assert [m for _, m in p.sides[1].got] == [["old glasses", 0], ["old glasses", 1],
                                              ["old glasses", 2], "new glasses"]


def test_poll_reports_when_it_is_needed():
    p = Pipe()
    assert p.s[0].poll() == -1  # link down: no timers
    p.connect()
    p.run(5)
    ms = p.s[0].poll()
    assert 0 < ms <= 1000
    p.s[0].send(LOG, "x")
    p.flush()
    assert p.s[1].poll() <= 10  # the delayed ack is due soon
