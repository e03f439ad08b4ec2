# One end of the link, for the glasses and the phone alike: a Session (session.py) and
# the router that hands its messages to the features. Sans-IO: the transport feeds frames
# to `endpoint.session` and sends what the session gives its send_frame; `wake()` (given
# at construction) is called after anything that may have queued a frame (the glasses'
# link task flag, the host's asyncio driver).
#
#   ep = Endpoint("glasses", clock, "0.1.0", caps, send_frame, wake, rpc=offload, log=log)
#   ep.route(kinds.STATUS_REQ, on_status)   # one handler per message kind (key 0)
#       a handler that returns False keeps the message's credit (the sender is held back)
#       until ep.consumed(ep.rx_ch); rx_ch is the channel of the message being routed
#   ep.on("up", fn)          fn(up): the session opened (True) or ended (False)
#   ep.on("audio", fn)       fn(packet bytes) for each AUDIO packet
#   ep.on("event", fn)       fn(topic, payload) for an EVENT message no route took
#   ep.on("room", fn)        fn(channel): a full outbox has room again
#   ep.on("session", fn)     fn(kind, detail) for every session event (EV_*)
#   ep.send(EVENTS, msg) / ep.send_audio(pkt) / ep.event(topic, payload)
#
# Order of dispatch: audio; offload RPC on the events channel (rpc.handle(msg)); a
# `claim(kind, msg)` hook (the phone's awaited replies); the route for the kind; EVENTs
# to "event" listeners; else counted as unrouted. A handler that raises is counted and
# logged; the link goes on.
from micropython import const

from firmware.protocol import kinds
from firmware.protocol.channels import AUDIO, EV_CLOSED, EV_DEAD, EV_OPEN, EV_ROOM, EVENTS
from firmware.protocol.session import Session
from firmware.runtime.observe import Emitter

_MAX_ROUTES = const(24)


class Endpoint(Emitter):
    EVENTS = ("up", "audio", "event", "room", "session")

    def __init__(self, role, clock, version, caps, send_frame, wake, board="", rpc=None,
                 claim=None, log=None, **session_kw):
        Emitter.__init__(self)
        self._session_args = (role, clock, version, caps, send_frame, board, session_kw)
        self.session = self.new_session()
        self._kick = wake
        self.rpc = rpc  # handle(msg) -> bool, room(), peer_reset(): Offload / RpcHost
        self.claim = claim  # claim(kind, msg) -> bool: taken before the routes
        self.log = log
        self.up = False
        self.peer = None  # the peer's hello (the EV_OPEN detail), once open
        self.rx_ch = -1  # channel of the message being routed
        self.unrouted = 0
        self.route_errors = 0
        self._routes = {}

    def new_session(self, session_id=None):
        """A fresh Session on this endpoint's transport and router (the glasses keep one
        per bonded phone: firmware/ble/link.py)."""
        role, clock, version, caps, send_frame, board, kw = self._session_args
        if session_id is not None:
            kw = dict(kw)
            kw["session_id"] = session_id
        return Session(role, clock, version, caps, send_frame, self._on_message,
                       self._on_event, board=board, **kw)

    # ---- wiring -------------------------------------------------------------------------
    def route(self, kind, fn):
        """Messages of this kind (any channel) go to fn(msg)."""
        if len(self._routes) >= _MAX_ROUTES and kind not in self._routes:
            raise ValueError("too many routes")
        self._routes[kind] = fn

    # ---- sending ------------------------------------------------------------------------
    def send(self, ch, msg):
        """Queue a message (delivered exactly once, across disconnects). False: that
        channel's outbox is full (wait for "room")."""
        ok = self.session.send(ch, msg)
        self._kick()
        return ok

    def send_audio(self, pkt):
        ok = self.session.send_audio(pkt)
        self._kick()
        return ok

    def event(self, topic, payload=None):
        return self.send(EVENTS, kinds.event(topic, payload))

    def audio_room(self):
        """Audio packets send_audio() can queue now without dropping the oldest."""
        return self.session.audio_room()

    def pending(self, ch):
        """Messages queued on channel ch and not yet acknowledged by the peer."""
        return self.session.pending(ch)

    def acks(self):
        """How many acknowledgements the peer has sent (it grows once the peer's end of
        the session is open and receiving)."""
        return self.session.acks_in

    def set_keepalive_ms(self, ms):
        """How often the session speaks when it has nothing to say (the peer declares us
        dead after a few silent intervals)."""
        self.session.keepalive_ms = ms

    def consumed(self, ch):
        """Done with a message whose handler returned False: its credit goes back."""
        self.session.consumed(ch)
        self._kick()

    # ---- from the session ---------------------------------------------------------------
    def _on_message(self, ch, msg):
        if ch == AUDIO:
            self.emit("audio", msg)
            return True
        if ch == EVENTS and self.rpc is not None and self.rpc.handle(msg):
            return True
        k = kinds.kind(msg)
        if self.claim is not None and self.claim(k, msg):
            return True
        fn = self._routes.get(k)
        if fn is None:
            if k == kinds.EVENT:
                self.emit("event", msg.get(1), msg.get(2))
                return True
            self.unrouted += 1
            if self.log is not None:
                self.log.warn("link: no route for message kind %s (channel %s)", k, ch)
            return True
        self.rx_ch = ch
        try:
            return fn(msg) is not False
        except Exception as e:  # one bad handler must not stop the link
            self.route_errors += 1
            if self.log is not None:
                self.log.error("link: the handler of kind %s failed: %s", k, e)
        return True

    def _on_event(self, kind, detail):
        if kind == EV_OPEN:
            self.peer = detail
            if detail.get("peer_reset") and self.rpc is not None:
                self.rpc.peer_reset()
        elif kind == EV_ROOM and self.rpc is not None:
            self.rpc.room()
        if kind == EV_OPEN:
            self.set_up(True)
        elif kind == EV_CLOSED or kind == EV_DEAD:
            self.set_up(False)
        self.emit("session", kind, detail)
        if kind == EV_ROOM:
            self.emit("room", detail)

    def set_up(self, up):
        """The session's open state as the features see it (the transport says False when
        the connection goes)."""
        if up == self.up:
            return
        self.up = up
        if self.log is not None:
            self.log.info("link up" if up else "link down")
        self.emit("up", up)
