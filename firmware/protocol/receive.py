# The session's receiving part: a frame from the peer, parsed and acted on (acks, data,
# audio, link messages), with every message and event handed to the application without
# letting its errors in. It keeps no state of its own: what it reads and writes is the
# Session's, declared in Session.__init__ (the channels, the reassembler, the RTT
# estimate, the counters, the time of the last frame in).
from micropython import const

from firmware.protocol.channels import (AUDIO, DOWN, EV_APP_ERROR, EV_AUDIO_GAP, EV_ROOM, HELLO,
                                        LINK, N_DATA, OPEN, name, seq_add, seq_diff)
from firmware.protocol.frame import F_CTRL, F_FIRST, FrameError, HEADER_LEN, parse_header
from firmware.protocol.reliable import AHEAD, DUPLICATE, IN_ORDER
from firmware.runtime import cbor

ACK_LEN = const(4)


class Inbound:
    def __init__(self, session):
        self.s = session

    def bad(self, reason):
        s = self.s
        s.bad_frames += 1
        s.last_error = reason

    def feed(self, frame):
        s = self.s
        s.frames_in += 1
        s.bytes_in += len(frame)
        if s.state == DOWN:
            self.bad("frame while the link is down")
            return
        s._last_rx = s._ms()
        try:
            ch, flags, seq = parse_header(frame)
        except FrameError as e:
            self.bad(str(e))
            return
        if flags & F_CTRL:
            self._ctrl(ch, seq, frame)
        elif ch == LINK:
            self._link_frame(frame)
        elif ch >= N_DATA:
            self.bad("frame on unknown channel %d" % ch)
        elif s.state != OPEN:
            self.bad("%s frame before the hello" % name(ch) if s.state == HELLO else
                     "%s frame after the session closed" % name(ch))
        elif ch == AUDIO:
            self._audio_frame(seq, frame)
        else:
            self._data_frame(ch, flags, seq, frame)

    def _ctrl(self, ch, seq, frame):
        s = self.s
        if ch == LINK:  # keepalive: the header alone
            if len(frame) != HEADER_LEN:
                self.bad("keepalive with a %d-byte body" % (len(frame) - HEADER_LEN))
            return
        tx = s._tx[ch] if ch < N_DATA else None
        if tx is None:
            self.bad("control frame on %s" % name(ch))
            return
        if len(frame) != ACK_LEN:
            self.bad("ack on %s is %d bytes, not %d" % (name(ch), len(frame), ACK_LEN))
            return
        if s.state != OPEN:
            self.bad("ack on %s outside an open session" % name(ch))
            return
        if self.ack(tx, seq, frame[3]):
            s.acks_in += 1

    def ack(self, tx, a, credit):
        """Apply the peer's acknowledgement of tx up to seq a, with its credit."""
        s = self.s
        rtt_seq = tx.rtt_seq
        before = tx.acked_bytes
        r = tx.ack(a)
        if r < 0:
            self.bad("ack for %s seq %d never sent (oldest unacked %d, next new %d)" %
                     (name(tx.ch), a, tx.base, tx.fresh))
            return False
        tx.grant(seq_add(a, credit))
        if r == 0:
            return True
        now = s._ms()
        s.goodput_out += tx.acked_bytes - before
        if rtt_seq >= 0 and seq_diff(a, rtt_seq) > 0:
            tx.rtt_seq = -1
            s.rtt.sample(s._tdiff(now, tx.rtt_t0))
        if tx.outstanding() > 0:
            tx.rto_on = True
            tx.rto_at = s._tadd(now, s.rtt.rto_for(tx.backoff))
        else:
            tx.rto_on = False
        if tx.refused:
            tx.refused = False
            self.event(EV_ROOM, tx.ch)
        return True

    def _data_frame(self, ch, flags, seq, frame):
        s = self.s
        rx = s._rx[ch]
        v = rx.classify(seq)
        if v != IN_ORDER:
            if v == DUPLICATE:
                if flags & F_FIRST:
                    s.duplicates += 1
                rx.ack_now = True  # the sender is resending what we have: tell it
            elif v == AHEAD:
                if flags & F_FIRST:
                    s.out_of_order += 1
            else:
                self.bad("%s seq %d outside the window (expecting %d, credit %d)" %
                         (name(ch), seq, rx.expected, rx.credit()))
            return
        got = self._whole(frame)
        if got is None:
            return
        payload = got[3]
        try:
            obj = cbor.loads(payload)
        except cbor.CBORError as e:
            self.bad("%s message %d: %s" % (name(ch), seq, e))
            return
        s.goodput_in += len(payload)
        held = self.deliver(ch, obj)
        rx.delivered(held, s._ms(), s.ack_delay_ms, s._tadd)

    def _audio_frame(self, seq, frame):
        s = self.s
        got = self._whole(frame)
        if got is None:
            return
        gap = s._arx.accept(seq)
        if gap < 0:
            return
        if gap > 0:
            self.event(EV_AUDIO_GAP, (seq_add(seq, -gap), gap))
        pkt = bytes(got[3])
        s.goodput_in += len(pkt)
        self.deliver(AUDIO, pkt)

    def _link_frame(self, frame):
        got = self._whole(frame)
        if got is None:
            return
        try:
            msg = cbor.loads(got[3])
        except cbor.CBORError as e:
            self.bad("link message: %s" % e)
            return
        self.s._link_message(msg)

    def _whole(self, frame):
        """The message this frame completes, or None (more to come, or a bad frame)."""
        try:
            return self.s._reasm.feed(frame)
        except FrameError as e:
            self.bad(str(e))
            return None

    def deliver(self, ch, obj):
        """Hand a message to the application; True if it holds the credit."""
        s = self.s
        try:
            return s._on_message(ch, obj) is False
        except Exception as e:  # the app's bug must not stop the link
            s.app_errors += 1
            self.event(EV_APP_ERROR, "on_message(%s) raised %s: %s" %
                       (name(ch), type(e).__name__, e))
            return False

    def event(self, kind, detail):
        s = self.s
        try:
            s._on_event(kind, detail)
        except Exception as e:
            s.app_errors += 1
            s.last_error = "on_event(%s) raised %s: %s" % (kind, type(e).__name__, e)
