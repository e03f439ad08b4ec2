# The audio channel: numbered packets, never retransmitted.
#
# The sender numbers every packet it is given (16 bits, wrapping) and keeps a bounded
# queue; when the queue is full the oldest packet is dropped (counted), so what goes out
# is always the freshest audio. The receiver delivers every packet newer than the last
# one and reports a gap (first missing number, count) for the numbers it never saw:
# packets dropped by the sender, lost in a disconnect, or cut off mid-message.
from firmware.protocol.channels import AUDIO, seq_add, seq_diff
from firmware.protocol.frame import split_into


class AudioTx:
    def __init__(self, cap):
        self.cap = cap
        self.q = [None] * cap
        self.h = 0
        self.n = 0
        self.next_seq = 0  # the number the next packet gets
        self.dropped = 0
        self.sent_bytes = 0  # packets handed to the transport whole
        self.cur = None  # packet being cut into frames, its number and the next offset
        self.cur_seq = 0
        self.off = 0

    def put(self, pkt):
        """Queue a packet; returns False if the oldest queued packet had to be dropped."""
        ok = True
        cap = self.cap
        if self.n >= cap:
            self.q[self.h] = None
            self.h = self.h + 1 if self.h + 1 < cap else 0
            self.n -= 1
            self.dropped += 1
            ok = False
        i = self.h + self.n
        if i >= cap:
            i -= cap
        self.q[i] = pkt
        self.n += 1
        self.next_seq = seq_add(self.next_seq, 1)
        return ok

    def ready(self):
        return self.cur is not None or self.n > 0

    def start(self):
        """Take the oldest queued packet as the one being sent."""
        self.cur_seq = seq_add(self.next_seq, -self.n)
        self.cur = self.q[self.h]
        self.q[self.h] = None
        self.h = self.h + 1 if self.h + 1 < self.cap else 0
        self.n -= 1
        self.off = 0

    def cut(self, buf, mtu):
        """Write the next audio frame into buf (ready() must be True); returns its length."""
        if self.cur is None:
            self.start()
        pkt = self.cur
        n, off = split_into(buf, AUDIO, self.cur_seq, pkt, self.off, mtu)
        if off >= len(pkt):
            self.sent_bytes += len(pkt)
            self.cur = None
            off = 0
        self.off = off
        return n

    def abort(self):
        """The link went down with a packet half sent: it is lost (counted as a drop)."""
        if self.cur is not None:
            self.cur = None
            self.off = 0
            self.dropped += 1


class AudioRx:
    def __init__(self):
        self.nxt = -1  # the number expected next (-1: none yet from this peer session)
        self.lost = 0  # packets reported missing
        self.late = 0  # packets older than one already delivered (discarded)

    def reset(self):
        self.nxt = -1

    def accept(self, seq):
        """Returns the gap before packet seq (0: none), or -1 if seq is late."""
        n = self.nxt
        if n < 0:
            self.nxt = seq_add(seq, 1)
            return 0
        d = seq_diff(seq, n)
        if d < 0:
            self.late += 1
            return -1
        self.nxt = seq_add(seq, 1)
        self.lost += d
        return d
