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
#
# The Session is composed of parts, each in its own module: Handshake (handshake.py: who
# we are, what we know of the peer, resuming from a hello; its own state only), Inbound
# (receive.py: frames in) and Outbound (send.py: frames out, its buffer and link-message
# queue). The state Inbound and Outbound share is declared here, in __init__.

from micropython import const

from firmware.protocol import hello as H
from firmware.protocol.channels import (AUDIO, BadChannel, LINK_MAX_MESSAGE, LinkError,
                                        MAX_MESSAGE, MAX_WINDOW, MessageTooLarge, N_DATA,
                                        OUTBOX, OUTBOX_BYTES, RELIABLE, WINDOW, name)
# States and events, for the application: Session.state, on_event(kind, detail).
from firmware.protocol.channels import (CLOSED, DOWN, EV_APP_ERROR, EV_AUDIO_GAP,  # noqa: F401
                                        EV_CLOSED, EV_DEAD, EV_OPEN, EV_ROOM, HELLO, OPEN,
                                        STATE_NAMES)
from firmware.protocol.frame import N_CHANNELS, Reassembler
from firmware.protocol.handshake import Handshake
from firmware.protocol.lossy import AudioRx, AudioTx
from firmware.protocol.receive import Inbound
from firmware.protocol.reliable import RxChannel, TxChannel
from firmware.protocol.rtt import Rtt
from firmware.protocol.send import Outbound
from firmware.runtime import cbor
from firmware.runtime import clock as _clock
from firmware.runtime.rand import bits30

MIN_MTU = const(23)


def _new_sid():
    return bits30() & H.SID_MASK


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
        sid = _new_sid() if session_id is None else session_id & H.SID_MASK
        self._hs = Handshake(role, version, board, list(caps), sid)
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
        # ---- the state the parts share -------------------------------------------------
        self._tx = [None] * N_DATA  # reliable channels: TxChannel (ours), RxChannel (the
        self._rx = [None] * N_DATA  # peer's), by channel number; None for audio
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
        self._reasm = Reassembler(limits)  # frames of the peer's messages, reassembled
        self.rtt = Rtt(rto_init_ms, rto_min_ms, rto_max_ms)
        self._max_mtu = max_mtu
        self._mtu = MIN_MTU
        self.state = DOWN
        self._hello_at = 0  # when our last hello was queued
        self._last_rx = 0  # when the last frame came in / went out
        self._last_tx = 0
        self._dead = False  # reported the peer dead on this connection
        # statistics (stats())
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
        # ---- the parts -------------------------------------------------------------------
        self._in = Inbound(self)
        self._out = Outbound(self, max_mtu)

    # ---- who we are and who the peer is (the handshake's) -------------------------------
    @property
    def sid(self):
        return self._hs.sid

    @property
    def peer_sid(self):
        return self._hs.peer_sid

    @property
    def peer(self):
        return self._hs.peer

    @property
    def protocol(self):
        return self._hs.protocol

    @protocol.setter
    def protocol(self, v):
        self._hs.protocol = v

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
        self._hs.open_once = False
        self._reset_link()
        self._queue_hello(False)
        self._out.pump()

    def link_down(self):
        """The transport lost the connection. Nothing queued is lost: unacknowledged
        messages go again after the next hello."""
        self.state = DOWN
        self._reset_link()

    def _reset_link(self):
        self._out.reset()
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
        self._out.pump()

    def feed(self, frame):
        """A frame from the peer. Anything malformed is counted and dropped; the session
        carries on."""
        self._in.feed(frame)
        self._out.pump()

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
                self._out.ka_due = True
            for ch in RELIABLE:
                tx = self._tx[ch]
                if tx.rto_on and diff(now, tx.rto_at) >= 0:
                    self._timeout(tx, now)
        self._out.pump()
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
            held = self._out.held
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
        self._out.pump()
        return True

    def send_audio(self, pkt):
        """Queue one audio packet (bytes). Returns False if the queue was full and its
        oldest packet was dropped to make room (counted in stats()['audio_dropped'])."""
        if len(pkt) > MAX_MESSAGE[AUDIO]:
            raise MessageTooLarge("audio packet of %d bytes exceeds %d" %
                                  (len(pkt), MAX_MESSAGE[AUDIO]))
        ok = self._atx.put(pkt)
        self._out.pump()
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
        self._out.pump()

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
        self._in.event(EV_DEAD, reason)

    # ---- link messages (hello, bye) ------------------------------------------------------
    def _link_message(self, msg):
        try:
            kind = H.kind(msg)
        except H.HelloError as e:
            self._in.bad("link message: %s" % e)
            return
        if kind == H.KIND_BYE:
            reason = msg.get(H.K_REASON)
            if not isinstance(reason, str):
                self._in.bad("bye without a reason")
            elif self.state != CLOSED:
                self.state = CLOSED
                self._in.event(EV_CLOSED, "closed by the peer: " + reason)
            return
        if self.state == CLOSED:
            return
        reason = self._hs.refusal(msg)
        if reason is None:
            try:
                self._hello(msg)
                return
            except H.HelloError as e:
                reason = str(e)
        self._close(reason)

    def _hello(self, msg):
        first, new_peer, had_peer = self._hs.resume(msg, self._tx, self._rx, self._in.ack)
        if new_peer:
            self._arx.reset()
        was_open = self.state == OPEN
        self.state = OPEN
        if was_open and not msg[H.K_GOT]:
            self._queue_hello(True)  # the peer missed ours: it dropped what we sent since
        if not was_open:
            self._in.event(EV_OPEN, self._hs.opened(msg, new_peer, had_peer))

    def _close(self, reason):
        self.state = CLOSED
        self._out.queue_link(cbor.dumps(H.bye(reason)), always=True)
        self._out.pump()  # the bye goes before the app hears of it (and maybe disconnects)
        self._in.event(EV_CLOSED, reason)

    def _queue_hello(self, got):
        self._out.queue_link(cbor.dumps(self._hs.hello(self._tx, self._rx, got)))
        self._hello_at = self._ms()
