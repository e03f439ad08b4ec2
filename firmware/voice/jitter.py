# Playback jitter buffer for numbered audio packets (see packet.py).
#
# `slots` (a power of two) preallocated packet buffers indexed by sequence number. put()
# copies a packet in: a packet older than the next one to play is `late` (dropped), one
# already held is a `duplicate` (dropped), one too far ahead makes room by skipping the
# oldest missing/held sequence numbers (counted as `lost` / `overflow`). next() hands out
# packets strictly in sequence order:
#   J_PACKET  the packet to play is self.cur[:self.cur_len] (a slot view; no copy)
#   J_GAP     this sequence number is missing and `prebuffer` later ones (or the END)
#             are here: it is given up; the caller plays 20 ms of silence (`lost`)
#   J_EMPTY   nothing playable now (counted in `underruns` while a stream runs): the
#             caller plays silence and asks again (a late packet can still fill it)
#   J_END     the packet flagged END has been played: the stream is over
# A packet flagged START begins a new stream (the buffer is reset to it). Playback does
# not start before `prebuffer` packets are held (or the END packet is in), which is what
# absorbs network jitter and reordering.
from micropython import const

from firmware.voice import packet as P

J_PACKET = const(0)
J_GAP = const(1)
J_EMPTY = const(2)
J_END = const(3)
J_WAIT = const(4)  # stream started but still prebuffering


class Jitter:
    def __init__(self, slots=8, max_packet=P.HEADER_BYTES + 640, prebuffer=2):
        if slots < 2 or slots & (slots - 1) or not 1 <= prebuffer <= slots:
            raise ValueError("jitter buffer: slots a power of two >= 2 (sequence numbers "
                             "wrap at 65536), 1 <= prebuffer <= slots")
        self.slots = slots
        self.max_packet = max_packet
        self.prebuffer = prebuffer
        self._buf = bytearray(slots * max_packet)
        mv = memoryview(self._buf)
        self._views = [mv[i * max_packet:(i + 1) * max_packet] for i in range(slots)]
        self._len = [0] * slots  # 0: empty slot
        self._seq = [0] * slots
        self.cur = None
        self.late = 0
        self.duplicates = 0
        self.lost = 0
        self.overflow = 0
        self.underruns = 0
        self.received = 0
        self.played = 0
        self.last_end = -1  # seq of the END packet of the last finished stream
        self.reset()

    def reset(self):
        """Forget everything buffered; the next packet starts a stream."""
        for i in range(self.slots):
            self._len[i] = 0
        self.active = False  # a stream is running (first packet seen, END not played)
        self.playing = False  # prebuffering done
        self.next_seq = 0
        self.held = 0
        self.end_seq = -1
        self.max_seq = 0
        self.cur = None
        self.cur_len = 0

    def _rewinds_to(self, s):
        """Can playback still start at s (earlier than next_seq)? Only while prebuffering,
        and if everything held still fits the window from s."""
        if self.playing:
            return False
        d = P.seq_diff(s, self.next_seq)
        return -self.slots < d <= 0 and P.seq_diff(self.max_seq, s) < self.slots

    def put(self, pkt):
        """Buffer one packet (validated with packet.check() by the caller)."""
        n = len(pkt)
        if n > self.max_packet:
            raise P.PacketError("audio packet of %d bytes exceeds the jitter slot (%d)"
                                % (n, self.max_packet))
        s = pkt[1] | (pkt[2] << 8)
        fl = pkt[0] & 0xF0
        if fl & P.F_START and self.active and not self._rewinds_to(s):
            self.reset()  # a new stream begins
        if not self.active:
            if self.last_end >= 0 and not fl & P.F_START and P.seq_diff(s, self.last_end) <= 0:
                self.late += 1  # a straggler of the stream that already ended
                return False
            self.reset()
            self.active = True
            self.next_seq = s
            self.max_seq = s
        d = P.seq_diff(s, self.next_seq)
        if d < 0:
            if not self._rewinds_to(s):
                self.late += 1
                return False
            self.next_seq = s  # arrived out of order before playback began: rewind
            d = 0
        if d >= 2 * self.slots:  # a jump: what is held is too old to matter now
            self.overflow += self.held
            for k in range(self.slots):
                self._len[k] = 0
            self.held = 0
            self.next_seq = s
            d = 0
        while d >= self.slots:  # too far ahead: give up on the oldest sequence number
            i = self.next_seq & (self.slots - 1)
            if self._len[i]:
                self._len[i] = 0
                self.held -= 1
                self.overflow += 1
            else:
                self.lost += 1
            self.next_seq = (self.next_seq + 1) & 0xFFFF
            d -= 1
        i = s & (self.slots - 1)
        if self._len[i]:
            self.duplicates += 1
            return False
        v = self._views[i]
        for k in range(n):
            v[k] = pkt[k]
        self._len[i] = n
        self._seq[i] = s
        self.held += 1
        self.received += 1
        if P.seq_diff(s, self.max_seq) > 0:
            self.max_seq = s
        if fl & P.F_END:
            self.end_seq = s
        return True

    def next(self):
        """What to play for the next frame (see J_* above)."""
        if not self.active:
            return J_EMPTY
        if not self.playing:
            if self.held < self.prebuffer and self.end_seq < 0:
                return J_WAIT
            self.playing = True
        s = self.next_seq
        if self.end_seq >= 0 and P.seq_diff(s, self.end_seq) > 0:
            self.active = False
            self.playing = False
            self.last_end = self.end_seq
            return J_END
        i = s & (self.slots - 1)
        n = self._len[i]
        if n:
            self._len[i] = 0
            self.held -= 1
            self.next_seq = (s + 1) & 0xFFFF
            self.cur = self._views[i]
            self.cur_len = n
            self.played += 1
            return J_PACKET
        if self.held >= self.prebuffer or (self.held and self.end_seq >= 0):
            self.next_seq = (s + 1) & 0xFFFF  # enough later packets: this one is lost
            self.lost += 1
            return J_GAP
        self.underruns += 1
        return J_EMPTY
