# The link session: hello, reliable and lossy channels, credits, keepalive, statistics.
# Sans-IO and shared by the glasses and the host: it is fed frames (feed) and the time
# (poll, through the clock it was given), and hands frames to send_frame. It never blocks,
# never sleeps, and holds a bounded amount of state. The wire format is in docs/link.md.
#
#   s = Session("glasses", clock, "0.3.0", ["rpc"], send_frame, on_message, on_event)
#   s.link_up(mtu)  / s.link_down()      the transport's connection (up = encrypted)
#   s.feed(frame)                        a frame the transport received
#   ms = s.poll()                        run due timers; call again within ms (-1: no timer)
#   s.writable()                         the transport has room again
#   s.send(ch, obj) -> bool              queue a message (False: that channel's outbox is full)
#   s.send_audio(pkt) -> bool            queue an audio packet (False: the oldest was dropped)
#   s.consumed(ch)                       the app is done with a message it held
#
# send_frame(frame) -> bool gets a memoryview of the session's own frame buffer, valid only
# during the call (copy it to keep it); False means "no room now": the session keeps that
# frame and offers it again from writable() or poll(), before anything else.
# on_message(ch, obj) gets each message once, in order (audio: the packet bytes); returning
# False holds its credit until consumed(ch). on_event(kind, detail) gets the EV_* events.
import os

from micropython import const

from firmware.link import cbor
from firmware.link import hello as H
from firmware.link.channels import (AUDIO, BadChannel, LINK, LINK_MAX_MESSAGE, LinkError,
                                    MAX_MESSAGE, MAX_WINDOW, MessageTooLarge, N_DATA, OUTBOX,
                                    OUTBOX_BYTES,
                                    PROTOCOL_VERSION, RELIABLE,
                                    SEND_ORDER, WINDOW, name, seq_add, seq_diff)
from firmware.link.frame import (F_CTRL, F_FIRST, FrameError, HEADER_LEN, N_CHANNELS,
                                 Reassembler, pack_header, parse_header, split_into)
from firmware.link.lossy import AudioRx, AudioTx
from firmware.link.reliable import DUPLICATE, IN_ORDER, AHEAD, RxChannel, TxChannel
from firmware.runtime import clock as _clock

# Session states.
DOWN = const(0)  # no link
HELLO = const(1)  # link up, waiting for the peer's hello
OPEN = const(2)
CLOSED = const(3)  # refused (version, role, bad hello) or closed by the peer; until link_down
STATE_NAMES = ("down", "hello", "open", "closed")

# Events for on_event(kind, detail).
EV_OPEN = "open"  # detail: dict describing the peer (see _hello)
EV_CLOSED = "closed"  # detail: the reason (text)
EV_DEAD = "dead"  # detail: the reason (text); the transport should disconnect
EV_AUDIO_GAP = "audio_gap"  # detail: (first missing packet number, count)
EV_ROOM = "room"  # detail: channel whose full outbox has room again
EV_APP_ERROR = "app_error"  # detail: text; on_message raised (the message counts as delivered)

MIN_MTU = const(23)
_ACK_LEN = const(4)


def _new_sid():
    try:
        b = os.urandom(4)
        return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) & H.SID_MASK
    except (AttributeError, NotImplementedError, OSError):
        c = _clock.active()
        return ((c.ticks_us() * 2654435761) ^ id(c)) & H.SID_MASK


class Session:
    def __init__(self, role, clock, version, caps, send_frame, on_message, on_event,
                 board="", session_id=None, max_mtu=247, keepalive_ms=1000, dead_after=3,
                 ack_delay_ms=10, rto_init_ms=1000, rto_min_ms=100, rto_max_ms=8000,
                 max_retries=8, windows=None, outboxes=None, outbox_bytes=None,
                 audio_queue=8):
        if role not in H.ROLES:
            raise LinkError("role must be one of %s, not %r" % (H.ROLES, role))
        if max_mtu < MIN_MTU:
            raise LinkError("max_mtu %d is below the BLE minimum of %d" % (max_mtu, MIN_MTU))
        self.role = role
        self.version = version
        self.caps = list(caps)
        self.board = board
        self.sid = _new_sid() if session_id is None else session_id & H.SID_MASK
        self.protocol = PROTOCOL_VERSION  # what our hello says (a test may pretend otherwise)
        c = clock if clock is not None else _clock.active()
        self._ms = c.ticks_ms
        self._tdiff = c.ticks_diff
        self._tadd = c.ticks_add
        self._send_frame = send_frame
        self._on_message = on_message
        self._on_event = on_event
        self.keepalive_ms = keepalive_ms
        self.dead_after = dead_after
        self.ack_delay_ms = ack_delay_ms
        self.rto_min_ms = rto_min_ms
        self.rto_max_ms = rto_max_ms
        self.max_retries = max_retries
        windows = windows or WINDOW
        outboxes = outboxes or OUTBOX
        outbox_bytes = outbox_bytes or OUTBOX_BYTES
        self._tx = [None] * N_DATA
        self._rx = [None] * N_DATA
        for ch in RELIABLE:
            w = windows[ch]
            if not 1 <= w <= MAX_WINDOW:
                raise LinkError("window for %s must be 1..%d" % (name(ch), MAX_WINDOW))
            self._tx[ch] = TxChannel(ch, outboxes[ch], outbox_bytes[ch])
            self._rx[ch] = RxChannel(ch, w)
        self._atx = AudioTx(audio_queue)
        self._arx = AudioRx()
        limits = [LINK_MAX_MESSAGE] * N_CHANNELS
        for ch in range(N_DATA):
            limits[ch] = MAX_MESSAGE[ch]
        self._reasm = Reassembler(limits)
        self._max_mtu = max_mtu
        self._mtu = MIN_MTU
        self._buf = bytearray(max_mtu - 3)
        self._mv = memoryview(self._buf)
        self._held = 0  # length of a frame in _buf the transport refused
        self._pumping = False
        self._again = False
        self._link_q = []  # encoded link messages (hello, bye) to send; at most 2
        self._link_off = 0
        self._link_seq = 0
        self.state = DOWN
        self.peer_sid = None
        self.peer = None  # the peer's hello (dict), once received
        self._open_once = False  # the peer's hello arrived on this connection
        self._hello_at = 0
        self._last_rx = 0
        self._last_tx = 0
        self._ka_due = False
        self._dead = False
        self._srtt8 = -1  # smoothed RTT x 8 (ms), -1 before the first sample
        self._rttvar4 = 0
        self._rto = rto_init_ms
        # statistics
        self.frames_in = 0
        self.frames_out = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.goodput_in = 0
        self.goodput_out = 0
        self.retransmits = 0
        self.duplicates = 0
        self.out_of_order = 0
        self.bad_frames = 0
        self.acks_in = 0
        self.acks_out = 0
        self.keepalives_out = 0
        self.outbox_full = 0
        self.app_errors = 0
        self.connects = 0
        self.last_error = None

    # ---- the transport's side ----------------------------------------------------------
    def link_up(self, mtu):
        """The transport is connected and encrypted, with this ATT MTU."""
        if mtu < MIN_MTU:
            raise LinkError("ATT MTU %d is below the BLE minimum of %d" % (mtu, MIN_MTU))
        self._mtu = mtu if mtu < self._max_mtu else self._max_mtu
        self.state = HELLO
        self.connects += 1
        now = self._ms()
        self._last_rx = now
        self._last_tx = now
        self._dead = False
        self._open_once = False
        self._reset_link()
        self._queue_hello(False)
        self._pump()

    def link_down(self):
        """The transport lost the connection. Nothing queued is lost: unacknowledged
        messages go again after the next hello."""
        self.state = DOWN
        self._reset_link()

    def _reset_link(self):
        self._held = 0
        self._link_q = []
        self._link_off = 0
        self._ka_due = False
        self._reasm.reset()
        for ch in RELIABLE:
            self._tx[ch].restart()
            rx = self._rx[ch]
            rx.ack_now = False
            rx.ack_on = False
            rx.hello_credit = rx.window
        self._atx.abort()

    def writable(self):
        """The transport has room again."""
        self._pump()

    def feed(self, frame):
        """A frame from the peer. Anything malformed is counted and dropped; the session
        carries on."""
        self.frames_in += 1
        self.bytes_in += len(frame)
        if self.state == DOWN:
            self._bad("frame while the link is down")
            return
        self._last_rx = self._ms()
        try:
            ch, flags, seq = parse_header(frame)
        except FrameError as e:
            self._bad(str(e))
            return
        if flags & F_CTRL:
            self._ctrl(ch, seq, frame)
        elif ch == LINK:
            self._link_frame(frame)
        elif ch >= N_DATA:
            self._bad("frame on unknown channel %d" % ch)
        elif self.state != OPEN:
            self._bad("%s frame before the hello" % name(ch) if self.state == HELLO else
                      "%s frame after the session closed" % name(ch))
        elif ch == AUDIO:
            self._audio_frame(seq, frame)
        else:
            self._data_frame(ch, flags, seq, frame)
        self._pump()

    def poll(self):
        """Run the timers that are due (retransmission, delayed ack, keepalive, hello,
        dead peer) and send what can go. Returns ms until poll() is needed again, or -1
        when no timer runs (link down or closed)."""
        st = self.state
        if st == DOWN or st == CLOSED:
            return -1
        now = self._ms()
        diff = self._tdiff
        if not self._dead:
            silent = diff(now, self._last_rx)
            if silent >= self.keepalive_ms * self.dead_after:
                self._report_dead("peer silent for %d ms (%d keepalive intervals)" %
                                  (silent, self.dead_after))
        if st == HELLO:
            if not self._dead and diff(now, self._hello_at) >= self.keepalive_ms:
                self._queue_hello(False)
        else:
            if diff(now, self._last_tx) >= self.keepalive_ms:
                self._ka_due = True
            for ch in RELIABLE:
                tx = self._tx[ch]
                if tx.rto_on and diff(now, tx.rto_at) >= 0:
                    self._timeout(tx, now)
        self._pump()
        return self._next_ms(self._ms())

    def _next_ms(self, now):
        st = self.state
        if st == DOWN or st == CLOSED:
            return -1
        diff = self._tdiff
        ka = self.keepalive_ms
        best = ka
        if not self._dead:
            d = ka * self.dead_after - diff(now, self._last_rx)
            if d < best:
                best = d
        if st == HELLO:
            d = ka - diff(now, self._hello_at)
            if d < best:
                best = d
        else:
            d = ka - diff(now, self._last_tx)
            if d < best:
                best = d
            for ch in RELIABLE:
                rx = self._rx[ch]
                if rx.ack_now:
                    best = 0
                elif rx.ack_on:
                    d = diff(rx.ack_at, now)
                    if d < best:
                        best = d
                tx = self._tx[ch]
                if tx.rto_on:
                    d = diff(tx.rto_at, now)
                    if d < best:
                        best = d
        return best if best > 0 else 0

    # ---- the application's side -------------------------------------------------------
    def send(self, ch, obj):
        """Queue obj (CBOR-encodable) on reliable channel ch. Returns True when queued,
        False when that channel's outbox is full (an EV_ROOM event says when it has room
        again). Raises BadChannel, MessageTooLarge, or cbor.CBORError for what cannot be
        sent at all. Works while the link is down: the message waits for the next link."""
        if not 0 <= ch < N_DATA or ch == AUDIO:
            raise BadChannel("%s is not a reliable channel (audio goes by send_audio)" %
                             name(ch))
        data = bytearray()  # kept as it is: no copy into bytes
        cbor.dump_into(data, obj)
        if len(data) > MAX_MESSAGE[ch]:
            raise MessageTooLarge("message of %d bytes exceeds the %s channel's %d" %
                                  (len(data), name(ch), MAX_MESSAGE[ch]))
        tx = self._tx[ch]
        if not tx.push(data):
            tx.refused = True
            self.outbox_full += 1
            return False
        self._pump()
        return True

    def send_audio(self, pkt):
        """Queue one audio packet (bytes). Returns False if the queue was full and its
        oldest packet was dropped to make room (counted in stats()['audio_dropped'])."""
        if len(pkt) > MAX_MESSAGE[AUDIO]:
            raise MessageTooLarge("audio packet of %d bytes exceeds %d" %
                                  (len(pkt), MAX_MESSAGE[AUDIO]))
        ok = self._atx.put(pkt)
        self._pump()
        return ok

    def consumed(self, ch):
        """The application is done with a message it held (on_message returned False):
        its credit goes back to the sender."""
        rx = self._rx[ch] if 0 <= ch < N_DATA else None
        if rx is None or not rx.consumed(self._ms(), self.ack_delay_ms, self._tadd):
            raise LinkError("consumed(%s) without a held message" % name(ch))
        self._pump()

    def outbox_room(self, ch):
        """(messages, bytes) channel ch can still queue."""
        tx = self._tx[ch]
        return tx.cap - tx.n, tx.max_bytes - tx.bytes

    def pending(self, ch):
        """Messages queued on channel ch and not yet acknowledged by the peer."""
        return self._tx[ch].n

    def stats(self):
        srtt = self._srtt8 >> 3 if self._srtt8 >= 0 else -1
        return {
            "state": STATE_NAMES[self.state], "rtt_ms": srtt, "rto_ms": self._rto,
            "retransmits": self.retransmits, "duplicates": self.duplicates,
            "out_of_order": self.out_of_order, "bad_frames": self.bad_frames,
            "audio_dropped": self._atx.dropped, "audio_lost": self._arx.lost,
            "audio_late": self._arx.late, "goodput_in": self.goodput_in,
            "goodput_out": self.goodput_out, "frames_in": self.frames_in,
            "frames_out": self.frames_out, "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out, "acks_in": self.acks_in, "acks_out": self.acks_out,
            "keepalives_out": self.keepalives_out, "outbox_full": self.outbox_full,
            "app_errors": self.app_errors, "connects": self.connects,
            "last_error": self.last_error,
        }

    # ---- receiving ---------------------------------------------------------------------
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
        if len(frame) != _ACK_LEN:
            self._bad("ack on %s is %d bytes, not %d" % (name(ch), len(frame), _ACK_LEN))
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
            self._rtt_sample(self._tdiff(now, tx.rtt_t0))
        if tx.outstanding() > 0:
            tx.rto_on = True
            tx.rto_at = self._tadd(now, self._rto_of(tx))
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

    # ---- hello and bye -----------------------------------------------------------------
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
            kind = H.kind(msg)
        except (cbor.CBORError, H.HelloError) as e:
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

    # ---- timers ------------------------------------------------------------------------
    def _rtt_sample(self, r):
        if r < 0:
            r = 0
        if self._srtt8 < 0:
            self._srtt8 = r << 3
            self._rttvar4 = r << 1
        else:
            err = r - (self._srtt8 >> 3)
            self._srtt8 += err
            if err < 0:
                err = -err
            self._rttvar4 += err - (self._rttvar4 >> 2)
        rto = (self._srtt8 >> 3) + self._rttvar4
        if rto < self.rto_min_ms:
            rto = self.rto_min_ms
        elif rto > self.rto_max_ms:
            rto = self.rto_max_ms
        self._rto = rto

    def _rto_of(self, tx):
        rto = self._rto << tx.backoff
        return rto if rto < self.rto_max_ms else self.rto_max_ms

    def _timeout(self, tx, now):
        if tx.retries >= self.max_retries:  # stop resending; the transport should drop us
            tx.rto_on = False
            self._report_dead("no ack on %s after %d retransmissions" %
                              (name(tx.ch), self.max_retries))
            return
        tx.timeout()
        tx.rto_at = self._tadd(now, self._rto_of(tx))

    def _report_dead(self, reason):
        if self._dead:
            return
        self._dead = True
        self.last_error = reason
        self._event(EV_DEAD, reason)

    # ---- sending -----------------------------------------------------------------------
    def _pump(self):
        if self._pumping:  # called back from inside send_frame: the outer loop goes on
            self._again = True
            return
        if self.state == DOWN:
            return
        self._pumping = True
        try:
            while True:
                self._again = False
                if self._held:
                    if not self._emit(self._held):
                        return
                    self._held = 0
                n = self._build()
                if n == 0:
                    if self._again:
                        continue
                    return
                if not self._emit(n):
                    self._held = n
                    return
        finally:
            self._pumping = False

    def _emit(self, n):
        if self._send_frame(self._mv[:n]) is False:
            return False
        self.frames_out += 1
        self.bytes_out += n
        self._last_tx = self._ms()
        return True

    def _build(self):
        """Write the most urgent frame into the buffer; return its length (0: none)."""
        buf = self._buf
        mtu = self._mtu
        if self._link_q:
            msg = self._link_q[0]
            n, off = split_into(buf, LINK, self._link_seq, msg, self._link_off, mtu)
            if off >= len(msg):
                self._link_q.pop(0)
                self._link_off = 0
                self._link_seq = seq_add(self._link_seq, 1)
            else:
                self._link_off = off
            return n
        if self.state != OPEN:
            return 0
        now = self._ms()
        for ch in RELIABLE:
            rx = self._rx[ch]
            if rx.due(now, self._tdiff):
                pack_header(buf, ch, F_CTRL, rx.expected)
                c = rx.credit()
                buf[3] = c if c > 0 else 0
                rx.advertised()
                self.acks_out += 1
                return _ACK_LEN
        for ch in SEND_ORDER:
            if ch == AUDIO:
                a = self._atx
                if not a.ready():
                    continue
                if a.cur is None:
                    a.start()
                n, off = split_into(buf, AUDIO, a.cur_seq, a.cur, a.off, mtu)
                if off >= len(a.cur):
                    self.goodput_out += len(a.cur)
                    a.cur = None
                    a.off = 0
                else:
                    a.off = off
                return n
            tx = self._tx[ch]
            if not tx.ready():
                continue
            if tx.cur is None:
                tx.start()
            msg = tx.cur
            n, off = split_into(buf, ch, tx.cur_seq, msg, tx.off, mtu)
            if off < len(msg):
                tx.off = off
                return n
            s = tx.cur_seq
            if tx.finished():
                if tx.rtt_seq < 0:
                    tx.rtt_seq = s
                    tx.rtt_t0 = now
            else:
                self.retransmits += 1
            if not tx.rto_on:
                tx.rto_on = True
                tx.rto_at = self._tadd(now, self._rto_of(tx))
            return n
        if self._ka_due:
            self._ka_due = False
            pack_header(buf, LINK, F_CTRL, 0)
            self.keepalives_out += 1
            return HEADER_LEN
        return 0
