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
#   s.audio_room()                       audio packets that can be queued without a drop
#   s.consumed(ch)                       the app is done with a message it held
#
# send_frame(frame) -> bool gets a memoryview of the session's own frame buffer, valid only
# during the call (copy it to keep it); False means "no room now": the session keeps that
# frame and offers it again from writable() or poll(), before anything else.
# on_message(ch, obj) gets each message once, in order (audio: the packet bytes); returning
# False holds its credit until consumed(ch). on_event(kind, detail) gets the EV_* events.

from micropython import const

from firmware.runtime import cbor
from firmware.protocol import hello as H
from firmware.protocol.channels import (AUDIO, BadChannel, LINK, LINK_MAX_MESSAGE, LinkError,
                                    MAX_MESSAGE, MAX_WINDOW, MessageTooLarge, N_DATA, OUTBOX,
                                    OUTBOX_BYTES, PROTOCOL_VERSION, RELIABLE, SEND_ORDER,
                                    WINDOW, name, seq_add)
# States and events, for the application: Session.state, on_event(kind, detail).
from firmware.protocol.channels import (CLOSED, DOWN, EV_APP_ERROR, EV_AUDIO_GAP,  # noqa: F401
                                    EV_CLOSED, EV_DEAD, EV_OPEN, EV_ROOM, HELLO, OPEN,
                                    STATE_NAMES)
from firmware.protocol.frame import (F_CTRL, FrameError, HEADER_LEN, N_CHANNELS, Reassembler,
                                 pack_header, parse_header, split_into)
from firmware.protocol.lossy import AudioRx, AudioTx
from firmware.protocol.receive import Receiver
from firmware.protocol.reliable import RxChannel, TxChannel
from firmware.protocol.rtt import Rtt
from firmware.runtime import clock as _clock
from firmware.runtime.rand import bits30

MIN_MTU = const(23)


def _new_sid():
    return bits30() & H.SID_MASK


class Session(Receiver):
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
        self.rtt = Rtt(rto_init_ms, rto_min_ms, rto_max_ms)
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
                st = self.state  # the app may have dropped the link on hearing it
                if st == DOWN:
                    return -1
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
            # While the transport holds a frame back, nothing more can go before
            # writable(): keepalives and acks wait for it, not for a timer (a due one
            # would make this 0 and spin the caller).
            held = self._held
            if not held:
                d = ka - diff(now, self._last_tx)
                if d < best:
                    best = d
            for ch in RELIABLE:
                rx = self._rx[ch]
                if held:
                    pass
                elif rx.ack_now:
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

    def audio_room(self):
        """Audio packets send_audio() can queue now without dropping the oldest."""
        a = self._atx
        return a.cap - a.n

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
        return {
            "state": STATE_NAMES[self.state], "rtt_ms": self.rtt.srtt(), "rto_ms": self.rtt.rto,
            "retransmits": self.retransmits, "duplicates": self.duplicates,
            "out_of_order": self.out_of_order, "bad_frames": self.bad_frames,
            "audio_dropped": self._atx.dropped, "audio_lost": self._arx.lost,
            "audio_late": self._arx.late, "goodput_in": self.goodput_in,
            "goodput_out": self.goodput_out + self._atx.sent_bytes, "frames_in": self.frames_in,
            "frames_out": self.frames_out, "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out, "acks_in": self.acks_in, "acks_out": self.acks_out,
            "keepalives_out": self.keepalives_out, "outbox_full": self.outbox_full,
            "app_errors": self.app_errors, "connects": self.connects,
            "last_error": self.last_error,
        }

    # ---- timers ------------------------------------------------------------------------
    def _timeout(self, tx, now):
        if tx.retries >= self.max_retries:  # stop resending; the transport should drop us
            tx.rto_on = False
            self._report_dead("no ack on %s after %d retransmissions" %
                              (name(tx.ch), self.max_retries))
            return
        tx.timeout()
        tx.rto_at = self._tadd(now, self.rtt.rto_for(tx.backoff))

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
                self.acks_out += 1
                return rx.ack_into(buf)
        for ch in SEND_ORDER:
            if ch == AUDIO:
                if self._atx.ready():
                    return self._atx.cut(buf, mtu)
                continue
            tx = self._tx[ch]
            if not tx.ready():
                continue
            n = tx.cut(buf, mtu)
            if tx.done == 1:
                if tx.rtt_seq < 0:  # time one first transmission at a time (Karn)
                    tx.rtt_seq = tx.cur_seq
                    tx.rtt_t0 = now
            elif tx.done == 2:
                self.retransmits += 1
            if tx.done and not tx.rto_on:
                tx.rto_on = True
                tx.rto_at = self._tadd(now, self.rtt.rto_for(tx.backoff))
            return n
        if self._ka_due:
            self._ka_due = False
            pack_header(buf, LINK, F_CTRL, 0)
            self.keepalives_out += 1
            return HEADER_LEN
        return 0
