# The session's sending part: which frame goes next, cut into its own buffer, and the
# pump that hands frames to the transport until it says "no room". It owns the frame
# buffer, the frame the transport refused (offered again first), the queue of encoded
# link messages (hello, bye) and the keepalive flag; the channels, counters and the
# transport's send_frame it uses are the Session's (declared in Session.__init__).
#
# Order: a pending link message; then acks that are due; then data by SEND_ORDER
# (control, events, audio, file, log); then a keepalive if one is due.
from micropython import const

from firmware.protocol.channels import AUDIO, DOWN, LINK, OPEN, RELIABLE, SEND_ORDER, seq_add
from firmware.protocol.frame import F_CTRL, HEADER_LEN, pack_header, split_into

_MAX_LINK_MSGS = const(2)  # hello and bye: never more waiting


class Outbound:
    def __init__(self, session, max_mtu):
        self.s = session
        self.buf = bytearray(max_mtu - 3)
        self.mv = memoryview(self.buf)
        self.held = 0  # length of a frame in buf the transport refused
        self.pumping = False
        self.again = False
        self.link_q = []  # encoded link messages (hello, bye) to send
        self.link_off = 0
        self.link_seq = 0
        self.ka_due = False

    def reset(self):
        """A new connection (or none): nothing half sent is kept."""
        self.held = 0
        self.link_q = []
        self.link_off = 0
        self.ka_due = False

    def queue_link(self, data, always=False):
        """Queue an encoded link message (a hello only while fewer than two wait; a bye
        always). False if it was not queued."""
        if not always and len(self.link_q) >= _MAX_LINK_MSGS:
            return False
        self.link_q.append(data)
        return True

    def pump(self):
        if self.pumping:  # called back from inside send_frame: the outer loop goes on
            self.again = True
            return
        if self.s.state == DOWN:
            return
        self.pumping = True
        try:
            while True:
                self.again = False
                if self.held:
                    if not self._emit(self.held):
                        return
                    self.held = 0
                n = self._build()
                if n == 0:
                    if self.again:
                        continue
                    return
                if not self._emit(n):
                    self.held = n
                    return
        finally:
            self.pumping = False

    def _emit(self, n):
        s = self.s
        if s._send_frame(self.mv[:n]) is False:
            return False
        s.frames_out += 1
        s.bytes_out += n
        s._last_tx = s._ms()
        return True

    def _build(self):
        """Write the most urgent frame into the buffer; return its length (0: none)."""
        s = self.s
        buf = self.buf
        mtu = s._mtu
        if self.link_q:
            msg = self.link_q[0]
            n, off = split_into(buf, LINK, self.link_seq, msg, self.link_off, mtu)
            if off >= len(msg):
                self.link_q.pop(0)
                self.link_off = 0
                self.link_seq = seq_add(self.link_seq, 1)
            else:
                self.link_off = off
            return n
        if s.state != OPEN:
            return 0
        now = s._ms()
        for ch in RELIABLE:
            rx = s._rx[ch]
            if rx.due(now, s._tdiff):
                s.acks_out += 1
                return rx.ack_into(buf)
        for ch in SEND_ORDER:
            if ch == AUDIO:
                if s._atx.ready():
                    return s._atx.cut(buf, mtu)
                continue
            tx = s._tx[ch]
            if not tx.ready():
                continue
            n = tx.cut(buf, mtu)
            if tx.done == 1:
                if tx.rtt_seq < 0:  # time one first transmission at a time (Karn)
                    tx.rtt_seq = tx.cur_seq
                    tx.rtt_t0 = now
            elif tx.done == 2:
                s.retransmits += 1
            if tx.done and not tx.rto_on:
                tx.rto_on = True
                tx.rto_at = s._tadd(now, s.rtt.rto_for(tx.backoff))
            return n
        if self.ka_due:
            self.ka_due = False
            pack_header(buf, LINK, F_CTRL, 0)
            s.keepalives_out += 1
            return HEADER_LEN
        return 0
