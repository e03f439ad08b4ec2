# The session's handshake part: who this side is, what it knows of the peer, and how a
# peer's hello resumes the reliable channels. It holds only its own state; the channels
# it reads and moves are passed in. The message format is in hello.py.
#
# At every link_up both sides send a hello (got=False). A side opens when the peer's hello
# arrives; if that hello says got=False while this side was already open, the peer had
# missed our hello (and dropped what we sent since), so we answer with ours (got=True) and
# resend. Each side then resumes from the other's numbers:
#   - the peer remembers our session id (K_PEER == our sid): its K_RX acknowledges what it
#     got; we resend from there;
#   - the peer's session id is new to us (first connect, or the peer restarted): we expect
#     its messages from its K_TX on, and it expects ours from our own oldest unacked one.
# Anything impossible (acks for messages never sent, messages dropped undelivered) is a
# HelloError with the reason, as is a version mismatch or a malformed hello.
from firmware.protocol import hello as H
from firmware.protocol.channels import PROTOCOL_VERSION, RELIABLE, name, seq_add, seq_diff


class Handshake:
    def __init__(self, role, version, board, caps, sid):
        self.role = role
        self.version = version
        self.board = board
        self.caps = caps
        self.sid = sid
        self.protocol = PROTOCOL_VERSION  # what our hello says (a test may pretend otherwise)
        self.peer_sid = None
        self.peer = None  # the peer's hello (dict), once received
        self.open_once = False  # the peer's hello arrived on this connection

    def hello(self, tx, rx, got):
        """Our hello, from the reliable channels' numbers (tx, rx: lists by channel)."""
        rx_l = []
        tx_l = []
        cr_l = []
        for ch in RELIABLE:
            r = rx[ch]
            rx_l.append(r.expected)
            tx_l.append(tx[ch].base)
            c = r.credit()
            cr_l.append(c)
            if c < r.hello_credit:
                r.hello_credit = c
        return H.build(self.protocol, self.role, self.version, self.board, self.caps,
                       self.sid, self.peer_sid, rx_l, tx_l, cr_l, got)

    def refusal(self, msg):
        """Why the peer's hello cannot be taken (protocol version, role, malformed), or
        None."""
        reason = H.version_mismatch(msg, self.protocol, self.role, self.version)
        if reason is not None:
            return reason
        try:
            H.check(msg, self.role)
        except H.HelloError as e:
            return str(e)
        return None

    def resume(self, msg, tx, rx, ack):
        """Resume the reliable channels from the peer's (checked) hello. ack(tx, seq,
        credit) applies an acknowledgement. Returns (first hello on this connection,
        the peer is new to us, there was a peer before it). HelloError, with nothing
        changed, if the numbers are impossible."""
        sid = msg[H.K_SID]
        knows_me = msg[H.K_PEER] == self.sid
        new_peer = sid != self.peer_sid
        first = not self.open_once
        p_rx = msg[H.K_RX]
        p_tx = msg[H.K_TX]
        p_cr = msg[H.K_CREDIT]
        for i in range(len(RELIABLE)):  # check everything before changing anything
            ch = RELIABLE[i]
            t = tx[ch]
            if knows_me and (seq_diff(p_rx[i], t.base) < 0 or
                             seq_diff(p_rx[i], t.fresh) > 0):
                raise H.HelloError("hello: peer expects %s seq %d, but %d..%d are "
                                   "unacknowledged" % (name(ch), p_rx[i], t.base, t.fresh))
            if not new_peer and seq_diff(p_tx[i], rx[ch].expected) > 0:
                raise H.HelloError("hello: peer dropped %s messages %d..%d never delivered"
                                   % (name(ch), rx[ch].expected, p_tx[i]))
        rewind = first or not msg[H.K_GOT]
        had_peer = self.peer_sid is not None
        for i in range(len(RELIABLE)):
            ch = RELIABLE[i]
            t = tx[ch]
            r = rx[ch]
            if new_peer:
                r.expected = p_tx[i]
                r.unacked = 0
            if rewind:
                t.restart()
            if knows_me:
                ack(t, p_rx[i], p_cr[i])
                start = p_rx[i]
            else:
                start = t.base
            if first or new_peer:
                t.limit = seq_add(start, p_cr[i])
            else:
                t.grant(seq_add(start, p_cr[i]))
            if first:  # what the peer takes from our hello; more goes by ack
                r.adv = seq_add(r.expected, r.hello_credit)
                r.unacked = 0
                r.ack_on = False
                r.ack_now = r.limit() != r.adv
        if new_peer:
            self.peer_sid = sid
        self.peer = msg
        self.open_once = True
        return first, new_peer, had_peer

    def opened(self, msg, new_peer, had_peer):
        """The EV_OPEN detail for the peer's hello."""
        return {"role": msg[H.K_ROLE], "version": msg[H.K_SW], "board": msg[H.K_BOARD],
                "caps": msg[H.K_CAPS], "resumed": not new_peer,
                "peer_reset": new_peer and had_peer}
