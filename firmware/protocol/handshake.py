# The Session's hello and bye handling (a part of Session, split out to keep each file
# small; it uses the Session's state directly). The message format is in hello.py.
#
# At every link_up both sides send a hello (got=False). A side opens when the peer's hello
# arrives; if that hello says got=False while this side was already open, the peer had
# missed our hello (and dropped what we sent since), so we answer with ours (got=True) and
# resend. Each side then resumes from the other's numbers:
#   - the peer remembers our session id (K_PEER == our sid): its K_RX acknowledges what it
#     got; we resend from there;
#   - the peer's session id is new to us (first connect, or the peer restarted): we expect
#     its messages from its K_TX on, and it expects ours from our own oldest unacked one.
# Anything impossible (acks for messages never sent, messages dropped undelivered) closes
# the session with the reason, as does a version mismatch or a malformed hello.
from firmware.runtime import cbor
from firmware.protocol import hello as H
from firmware.protocol.channels import (CLOSED, EV_CLOSED, EV_OPEN, OPEN, RELIABLE, name, seq_add,
                                    seq_diff)


class Handshake:
    def _link_message(self, msg):
        try:
            kind = H.kind(msg)
        except H.HelloError as e:
            self._bad("link message: %s" % e)
            return
        if kind == H.KIND_BYE:
            reason = msg.get(H.K_REASON)
            if not isinstance(reason, str):
                self._bad("bye without a reason")
            elif self.state != CLOSED:
                self.state = CLOSED
                self._event(EV_CLOSED, "closed by the peer: " + reason)
            return
        if self.state == CLOSED:
            return
        reason = H.version_mismatch(msg, self.protocol, self.role, self.version)
        if reason is None:
            try:
                H.check(msg, self.role)
                self._hello(msg)
                return
            except H.HelloError as e:
                reason = str(e)
        self._close(reason)

    def _close(self, reason):
        self.state = CLOSED
        self._link_q.append(cbor.dumps(H.bye(reason)))
        self._pump()  # the bye goes before the app hears of it (and maybe disconnects)
        self._event(EV_CLOSED, reason)

    def _queue_hello(self, got):
        rx_l = []
        tx_l = []
        cr_l = []
        for ch in RELIABLE:
            rx = self._rx[ch]
            rx_l.append(rx.expected)
            tx_l.append(self._tx[ch].base)
            c = rx.credit()
            cr_l.append(c)
            if c < rx.hello_credit:
                rx.hello_credit = c
        msg = H.build(self.protocol, self.role, self.version, self.board, self.caps, self.sid,
                      self.peer_sid, rx_l, tx_l, cr_l, got)
        if len(self._link_q) < 2:
            self._link_q.append(cbor.dumps(msg))
        self._hello_at = self._ms()

    def _hello(self, msg):
        sid = msg[H.K_SID]
        knows_me = msg[H.K_PEER] == self.sid
        new_peer = sid != self.peer_sid
        first = not self._open_once
        p_rx = msg[H.K_RX]
        p_tx = msg[H.K_TX]
        p_cr = msg[H.K_CREDIT]
        for i in range(len(RELIABLE)):  # check everything before changing anything
            ch = RELIABLE[i]
            tx = self._tx[ch]
            if knows_me and (seq_diff(p_rx[i], tx.base) < 0 or
                             seq_diff(p_rx[i], tx.fresh) > 0):
                raise H.HelloError("hello: peer expects %s seq %d, but %d..%d are "
                                   "unacknowledged" % (name(ch), p_rx[i], tx.base, tx.fresh))
            if not new_peer and seq_diff(p_tx[i], self._rx[ch].expected) > 0:
                raise H.HelloError("hello: peer dropped %s messages %d..%d never delivered"
                                   % (name(ch), self._rx[ch].expected, p_tx[i]))
        rewind = first or not msg[H.K_GOT]
        had_peer = self.peer_sid is not None
        for i in range(len(RELIABLE)):
            ch = RELIABLE[i]
            tx = self._tx[ch]
            rx = self._rx[ch]
            if new_peer:
                rx.expected = p_tx[i]
                rx.unacked = 0
            if rewind:
                tx.restart()
            if knows_me:
                self._ack(tx, p_rx[i], p_cr[i])
                start = p_rx[i]
            else:
                start = tx.base
            if first or new_peer:
                tx.limit = seq_add(start, p_cr[i])
            else:
                tx.grant(seq_add(start, p_cr[i]))
            if first:  # what the peer takes from our hello; more goes by ack
                rx.adv = seq_add(rx.expected, rx.hello_credit)
                rx.unacked = 0
                rx.ack_on = False
                rx.ack_now = rx.limit() != rx.adv
        if new_peer:
            self._arx.reset()
            self.peer_sid = sid
        self.peer = msg
        was_open = self.state == OPEN
        self.state = OPEN
        self._open_once = True
        if was_open and not msg[H.K_GOT]:
            self._queue_hello(True)  # the peer missed ours: it dropped what we sent since
        if not was_open:
            self._event(EV_OPEN, {"role": msg[H.K_ROLE], "version": msg[H.K_SW],
                                  "board": msg[H.K_BOARD], "caps": msg[H.K_CAPS],
                                  "resumed": not new_peer, "peer_reset": new_peer and had_peer})
