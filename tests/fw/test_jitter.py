# The playback jitter buffer: in-order output with reordering, duplicates, gaps, late
# packets, overflow, stream restarts and underruns.
from fwtest import raises

from firmware.voice import packet as P
from firmware.voice.jitter import Jitter, J_PACKET, J_GAP, J_EMPTY, J_END, J_WAIT

# Peak heap per test under MicroPython.
HEAP_BUDGET = {
    "test_in_order_stream_plays_after_prebuffer_and_ends": 16000,
    "test_reordering_within_the_window_and_duplicates": 16000,
    "test_gaps_are_marked_and_late_packets_dropped": 16000,
    "test_too_far_ahead_skips_oldest_and_big_jumps_restart": 16000,
    "test_start_flag_begins_a_new_stream_and_stragglers_are_late": 16000,
    "test_sequence_numbers_wrap": 16000,
    "test_put_and_next_allocate_nothing": 16000,
    "test_bad_configuration_and_oversized_packets": 8000,
}


def pkt(seq, flags=0, tag=None):
    b = bytearray(8)
    P.put_header(b, P.CODEC_PCM16, flags, seq)
    b[3] = (seq if tag is None else tag) & 0xFF
    return b


def drain(j, limit=50):
    """[(status, tag)] until EMPTY or END."""
    out = []
    for _ in range(limit):
        r = j.next()
        out.append((r, j.cur[3] if r == J_PACKET else None))
        if r in (J_EMPTY, J_END):
            break
    return out


def test_in_order_stream_plays_after_prebuffer_and_ends():
    j = Jitter(slots=8, prebuffer=3)
    assert j.next() == J_EMPTY and j.underruns == 0  # no stream: not an underrun
    j.put(pkt(10, P.F_START))
    j.put(pkt(11))
    assert j.next() == J_WAIT  # prebuffering
    j.put(pkt(12))
    j.put(pkt(13, P.F_END))
    assert drain(j) == [(J_PACKET, 10), (J_PACKET, 11), (J_PACKET, 12), (J_PACKET, 13),
                        (J_END, None)]
    assert j.cur_len == 8
    assert (j.received, j.played, j.lost, j.underruns) == (4, 4, 0, 0)
    assert j.next() == J_EMPTY and not j.active


def test_reordering_within_the_window_and_duplicates():
    j = Jitter(slots=8, prebuffer=3)
    for s in (1, 0, 3, 2, 2, 5, 4, 1):  # 0 is the START but arrives second
        j.put(pkt(s, P.F_START if s == 0 else 0))
    assert j.duplicates == 2 and j.late == 0
    got = drain(j)
    assert [t for r, t in got if r == J_PACKET] == [0, 1, 2, 3, 4, 5], got
    assert got[-1] == (J_EMPTY, None) and j.underruns == 1


def test_gaps_are_marked_and_late_packets_dropped():
    j = Jitter(slots=8, prebuffer=2)
    j.put(pkt(0, P.F_START))
    j.put(pkt(1))
    assert j.next() == J_PACKET and j.next() == J_PACKET
    j.put(pkt(4))  # 2 is missing, but one later packet is not enough to give up on it
    assert j.next() == J_EMPTY and j.underruns == 1 and j.lost == 0
    j.put(pkt(5))  # two later packets (= prebuffer): 2 and 3 are lost
    assert j.next() == J_GAP and j.next() == J_GAP
    assert j.next() == J_PACKET and j.cur[3] == 4
    assert not j.put(pkt(2))  # arrives after its slot was played as a gap
    assert j.late == 1 and j.lost == 2
    j.put(pkt(7, P.F_END))  # with the END held, a single missing packet is given up
    assert drain(j) == [(J_PACKET, 5), (J_GAP, None), (J_PACKET, 7), (J_END, None)]


def test_too_far_ahead_skips_oldest_and_big_jumps_restart():
    j = Jitter(slots=4, prebuffer=1)
    j.put(pkt(0, P.F_START))
    j.put(pkt(1))
    j.put(pkt(5))  # window is 4: 0 and 1 are given up (overflow), 2..4 never came
    assert j.overflow == 2 and j.lost == 0 and j.next_seq == 2
    assert j.next() == J_GAP and j.next() == J_GAP and j.next() == J_GAP
    assert j.next() == J_PACKET and j.cur[3] == 5
    j.put(pkt(6))
    j.put(pkt(100))  # a jump far beyond the window: start over at 100
    assert j.overflow == 3 and j.next_seq == 100
    assert j.next() == J_PACKET and j.cur[3] == 100


def test_start_flag_begins_a_new_stream_and_stragglers_are_late():
    j = Jitter(slots=8, prebuffer=1)
    j.put(pkt(50, P.F_START))
    j.put(pkt(51, P.F_END))
    assert drain(j) == [(J_PACKET, 50), (J_PACKET, 51), (J_END, None)]
    assert not j.put(pkt(49))  # a straggler of the finished stream
    assert j.late == 1 and not j.active
    j.put(pkt(52))  # a stream without a START packet still plays
    assert j.next() == J_PACKET and j.cur[3] == 52
    j.put(pkt(53))
    j.put(pkt(7, P.F_START))  # a new stream interrupts
    assert j.next() == J_PACKET and j.cur[3] == 7


def test_sequence_numbers_wrap():
    j = Jitter(slots=4, prebuffer=2)
    j.put(pkt(65534, P.F_START))
    j.put(pkt(0))
    j.put(pkt(65535))
    j.put(pkt(1, P.F_END))
    assert [t for r, t in drain(j) if r == J_PACKET] == [254, 255, 0, 1]
    assert j.lost == 0 and j.late == 0


def test_put_and_next_allocate_nothing():
    import micropython
    j = Jitter(slots=8, prebuffer=2)
    pkts = [pkt(s, P.F_START if s == 0 else 0) for s in range(40)]
    n = 0
    micropython.heap_lock()
    try:
        for s in range(40):
            j.put(pkts[s])
            if s & 1:
                while j.next() == J_PACKET:
                    n += 1
    finally:
        micropython.heap_unlock()
    assert n == 40 and j.underruns > 0


def test_bad_configuration_and_oversized_packets():
    e = raises(ValueError, Jitter, slots=6)
    assert "power of two" in str(e)
    raises(ValueError, Jitter, slots=4, prebuffer=5)
    j = Jitter(slots=4, max_packet=10)
    e = raises(P.PacketError, j.put, bytes(11))
    assert "exceeds" in str(e)
