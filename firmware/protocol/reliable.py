# One direction of one reliable channel: the sender's outbox (TxChannel) and the
# receiver's window (RxChannel). Sans-IO: the Session feeds them frames and the time.
#
# Go-back-N over message sequence numbers: the sender keeps every message until it is
# acknowledged; an ack is cumulative ("next seq I expect") and carries the credit ("you
# may send this many messages from there"). A retransmission timeout, or a reconnect,
# sends everything unacknowledged again from the oldest; the receiver delivers only the
# seq it expects next, so a copy it already delivered is discarded as a duplicate.
from micropython import const

from firmware.protocol.channels import seq_add, seq_diff
from firmware.protocol.frame import F_CTRL, pack_header, split_into

# Receiver verdicts for a data frame's seq.
IN_ORDER = const(0)
DUPLICATE = const(1)  # already delivered: discard, ack again
AHEAD = const(2)  # within credit but past a missing message: discard (go-back-N)
OUT_OF_WINDOW = const(3)  # nothing a correct peer sends: bad frame


class TxChannel:
    """The sender's side: a ring of encoded messages from the oldest unacknowledged
    (seq `base`) on, a cursor `nxt` (next seq to start sending), the credit `limit`
    (first seq the receiver has not granted), and the message being cut into frames."""

    def __init__(self, ch, cap, max_bytes):
        self.ch = ch
        self.cap = cap
        self.max_bytes = max_bytes
        self.bytes = 0  # encoded bytes held
        self.q = [None] * cap
        self.h = 0  # ring index of seq `base`
        self.n = 0  # messages held (unsent + unacknowledged)
        self.base = 0
        self.nxt = 0
        self.fresh = 0  # first seq never sent completely (older ones are retransmits)
        self.limit = 0
        self.cur = None  # message being cut into frames, its seq and the next offset
        self.cur_seq = 0
        self.off = 0
        self.rewind = False  # go back to `base` once the current message is out
        self.rto_on = False
        self.rto_at = 0
        self.backoff = 0  # RTO doubles per consecutive timeout (shift count)
        self.retries = 0  # consecutive timeouts without progress, this connection
        self.rtt_seq = -1  # the one message being timed (Karn: never a retransmit)
        self.rtt_t0 = 0
        self.refused = False  # a send() found the outbox full: report room when it frees
        self.acked_bytes = 0
        self.done = 0  # after cut(): 1 first transmission of cur_seq ended, 2 a resend ended

    def push(self, data):
        if self.n >= self.cap or (self.n and self.bytes + len(data) > self.max_bytes):
            return False
        self.bytes += len(data)
        i = self.h + self.n
        if i >= self.cap:
            i -= self.cap
        self.q[i] = data
        self.n += 1
        return True

    def at(self, seq):
        i = self.h + seq_diff(seq, self.base)
        if i >= self.cap:
            i -= self.cap
        return self.q[i]

    def ready(self):
        """Is there a frame to send now (a message under way, or a new one within credit)?"""
        if self.cur is not None:
            return True
        return (seq_diff(self.nxt, self.base) < self.n and
                seq_diff(self.nxt, self.limit) < 0)

    def start(self):
        """Take the message at nxt as the one being cut into frames."""
        self.cur = self.at(self.nxt)
        self.cur_seq = self.nxt
        self.off = 0

    def cut(self, buf, mtu):
        """Write this channel's next frame into buf (ready() must be True); returns its
        length. .done tells whether it ended a message, and how."""
        if self.cur is None:
            self.start()
        msg = self.cur
        n, off = split_into(buf, self.ch, self.cur_seq, msg, self.off, mtu)
        if off < len(msg):
            self.off = off
            self.done = 0
        else:
            self.done = 1 if self.finished() else 2
        return n

    def finished(self):
        """The current message's last frame went out. Returns True if that was its first
        complete transmission, False for a retransmission."""
        s = self.cur_seq
        self.cur = None
        self.off = 0
        first = seq_diff(s, self.fresh) >= 0
        if first:
            self.fresh = seq_add(s, 1)
        nxt = seq_add(s, 1)
        if self.rewind:
            self.rewind = False
            nxt = self.base
        if seq_diff(nxt, self.base) < 0:
            nxt = self.base
        self.nxt = nxt
        return first

    def outstanding(self):
        """Messages sent (at least once) and not yet acknowledged."""
        return seq_diff(self.fresh, self.base)

    def ack(self, a):
        """Cumulative ack: the receiver expects seq a next. Returns the number of
        messages released (0 for a repeat or stale ack), or -1 if a acknowledges
        messages never sent (a bad frame)."""
        d = seq_diff(a, self.base)
        if d <= 0:
            return 0
        if d > seq_diff(self.fresh, self.base):
            return -1
        q = self.q
        h = self.h
        cap = self.cap
        b = 0
        for _ in range(d):
            b += len(q[h])
            q[h] = None
            h += 1
            if h >= cap:
                h = 0
        self.h = h
        self.n -= d
        self.bytes -= b
        self.acked_bytes += b
        self.base = a
        if seq_diff(self.nxt, a) < 0:
            self.nxt = a
        self.retries = 0
        self.backoff = 0
        return d

    def grant(self, limit):
        """Credit: the receiver accepts seqs before limit. Never shrinks."""
        if seq_diff(limit, self.limit) > 0:
            self.limit = limit

    def restart(self):
        """A new connection: drop the half-sent message, resend from the oldest."""
        self.cur = None
        self.off = 0
        self.rewind = False
        self.nxt = self.base
        self.rto_on = False
        self.backoff = 0
        self.retries = 0
        self.rtt_seq = -1

    def timeout(self):
        """The retransmission timer ran out: go back to the oldest unacknowledged."""
        self.retries += 1
        if self.backoff < 6:
            self.backoff += 1
        self.rtt_seq = -1
        if self.cur is not None:
            self.rewind = True  # finish the message under way first (its frames are out)
        else:
            self.nxt = self.base


class RxChannel:
    """The receiver's side: the seq it expects next, the messages the application still
    holds (each holds one credit), and when to acknowledge."""

    def __init__(self, ch, window):
        self.ch = ch
        self.window = window
        self.expected = 0
        self.held = 0
        self.adv = window  # the limit last advertised to the sender
        self.unacked = 0  # messages delivered since the last ack
        self.ack_every = window // 2 if window >= 2 else 1
        self.ack_now = False
        self.ack_on = False  # delayed-ack timer running
        self.ack_at = 0
        self.hello_credit = window  # least credit any hello of this connection carried

    def limit(self):
        return seq_add(self.expected, self.window - self.held)

    def credit(self):
        return self.window - self.held

    def classify(self, seq):
        d = seq_diff(seq, self.expected)
        if d == 0:
            return IN_ORDER
        if d < 0:
            return DUPLICATE if d >= -256 else OUT_OF_WINDOW
        return AHEAD if d < self.window - self.held else OUT_OF_WINDOW

    def advertised(self):
        """An ack was sent with the current state."""
        self.adv = self.limit()
        self.unacked = 0
        self.ack_now = False
        self.ack_on = False

    def delivered(self, held, now, delay_ms, ticks_add):
        """The message at expected reached the application (held: it keeps its credit)."""
        self.expected = seq_add(self.expected, 1)
        if held:
            self.held += 1
        self.unacked += 1
        if self.unacked >= self.ack_every:
            self.ack_now = True
        elif not self.ack_on:
            self.ack_on = True
            self.ack_at = ticks_add(now, delay_ms)

    def consumed(self, now, delay_ms, ticks_add):
        """The application is done with a held message: its credit comes back. The ack
        goes at once if the sender had no credit left or enough came back at once."""
        if self.held <= 0:
            return False
        self.held -= 1
        closed = seq_diff(self.adv, self.expected) <= 0
        if closed or seq_diff(self.limit(), self.adv) >= self.ack_every:
            self.ack_now = True
        elif not self.ack_on:
            self.ack_on = True
            self.ack_at = ticks_add(now, delay_ms)
        return True

    def ack_into(self, buf):
        """Write an ack frame (next expected seq, credit) into buf; returns its length."""
        pack_header(buf, self.ch, F_CTRL, self.expected)
        c = self.credit()
        buf[3] = c if c > 0 else 0
        self.advertised()
        return 4

    def due(self, now, ticks_diff):
        return self.ack_now or (self.ack_on and ticks_diff(now, self.ack_at) >= 0)
