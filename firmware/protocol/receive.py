# The Session's receiving side (a part of Session, split out to keep each file small; it
# uses the Session's state directly): acks, data and audio frames, link messages, and
# handing messages and events to the application without letting its errors in.
from micropython import const

from firmware.runtime import cbor
from firmware.protocol.channels import (AUDIO, EV_APP_ERROR, EV_AUDIO_GAP, EV_ROOM, LINK, N_DATA,
                                    OPEN, name, seq_add, seq_diff)
from firmware.protocol.frame import F_FIRST, FrameError, HEADER_LEN
from firmware.protocol.handshake import Handshake
from firmware.protocol.reliable import AHEAD, DUPLICATE, IN_ORDER

ACK_LEN = const(4)


class Receiver(Handshake):
    def _bad(self, reason):
        self.bad_frames += 1
        self.last_error = reason

    def _ctrl(self, ch, seq, frame):
        if ch == LINK:  # keepalive: the header alone
            if len(frame) != HEADER_LEN:
                self._bad("keepalive with a %d-byte body" % (len(frame) - HEADER_LEN))
            return
        tx = self._tx[ch] if ch < N_DATA else None
        if tx is None:
            self._bad("control frame on %s" % name(ch))
            return
        if len(frame) != ACK_LEN:
            self._bad("ack on %s is %d bytes, not %d" % (name(ch), len(frame), ACK_LEN))
            return
        if self.state != OPEN:
            self._bad("ack on %s outside an open session" % name(ch))
            return
        if self._ack(tx, seq, frame[3]):
            self.acks_in += 1

    def _ack(self, tx, a, credit):
        rtt_seq = tx.rtt_seq
        before = tx.acked_bytes
        r = tx.ack(a)
        if r < 0:
            self._bad("ack for %s seq %d never sent (oldest unacked %d, next new %d)" %
                      (name(tx.ch), a, tx.base, tx.fresh))
            return False
        tx.grant(seq_add(a, credit))
        if r == 0:
            return True
        now = self._ms()
        self.goodput_out += tx.acked_bytes - before
        if rtt_seq >= 0 and seq_diff(a, rtt_seq) > 0:
            tx.rtt_seq = -1
            self.rtt.sample(self._tdiff(now, tx.rtt_t0))
        if tx.outstanding() > 0:
            tx.rto_on = True
            tx.rto_at = self._tadd(now, self.rtt.rto_for(tx.backoff))
        else:
            tx.rto_on = False
        if tx.refused:
            tx.refused = False
            self._event(EV_ROOM, tx.ch)
        return True

    def _data_frame(self, ch, flags, seq, frame):
        rx = self._rx[ch]
        v = rx.classify(seq)
        if v != IN_ORDER:
            if v == DUPLICATE:
                if flags & F_FIRST:
                    self.duplicates += 1
                rx.ack_now = True  # the sender is resending what we have: tell it
            elif v == AHEAD:
                if flags & F_FIRST:
                    self.out_of_order += 1
            else:
                self._bad("%s seq %d outside the window (expecting %d, credit %d)" %
                          (name(ch), seq, rx.expected, rx.credit()))
            return
        try:
            got = self._reasm.feed(frame)
        except FrameError as e:
            self._bad(str(e))
            return
        if got is None:
            return
        payload = got[3]
        try:
            obj = cbor.loads(payload)
        except cbor.CBORError as e:
            self._bad("%s message %d: %s" % (name(ch), seq, e))
            return
        self.goodput_in += len(payload)
        held = self._deliver(ch, obj)
        rx.delivered(held, self._ms(), self.ack_delay_ms, self._tadd)

    def _audio_frame(self, seq, frame):
        try:
            got = self._reasm.feed(frame)
        except FrameError as e:
            self._bad(str(e))
            return
        if got is None:
            return
        gap = self._arx.accept(seq)
        if gap < 0:
            return
        if gap > 0:
            self._event(EV_AUDIO_GAP, (seq_add(seq, -gap), gap))
        pkt = bytes(got[3])
        self.goodput_in += len(pkt)
        self._deliver(AUDIO, pkt)

    def _link_frame(self, frame):
        try:
            got = self._reasm.feed(frame)
        except FrameError as e:
            self._bad(str(e))
            return
        if got is None:
            return
        try:
            msg = cbor.loads(got[3])
        except cbor.CBORError as e:
            self._bad("link message: %s" % e)
            return
        self._link_message(msg)

    def _deliver(self, ch, obj):
        """Hand a message to the application; True if it holds the credit."""
        try:
            return self._on_message(ch, obj) is False
        except Exception as e:  # the app's bug must not stop the link
            self.app_errors += 1
            self._event(EV_APP_ERROR, "on_message(%s) raised %s: %s" %
                        (name(ch), type(e).__name__, e))
            return False

    def _event(self, kind, detail):
        try:
            self._on_event(kind, detail)
        except Exception as e:
            self.app_errors += 1
            self.last_error = "on_event(%s) raised %s: %s" % (kind, type(e).__name__, e)
