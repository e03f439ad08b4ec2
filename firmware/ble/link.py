# The glasses' link service: the GATT peripheral (firmware/ble/gatt.py) carries frames,
# the Session (firmware/protocol/session.py) turns them into messages, and this module joins
# the two and routes messages to the rest of the firmware.
#
#   link = LinkService(sched, gatt, "0.1.0", "xiao_esp32s3_sense", caps, log)
#   link.route(kinds.STATUS_REQ, on_status_request)      # by message kind (key 0)
#       a handler that returns False keeps the message's credit (the sender is held back)
#       until link.consumed(ch); link.rx_ch is the channel of the message being routed
#   link.on_audio = playback.push                         # AUDIO channel packets
#   link.listen(on_up_down)                               # session open / closed
#   link.send(EVENTS, msg) / link.send_audio(pkt)
#   answer = await link.offload.call("asr", ...)          # offload RPC to the phone
#   sched.spawn(link.run, prio=PRIO_LINK)
#
# Nothing leaves before the link is encrypted and bonded: the GATT layer refuses to
# notify before that, and the session only starts (link_up) when it is so, and the
# phone has written its first frame (its hello): the phone subscribes to TX and settles
# the ATT MTU before it writes, so our hello is neither notified into the void nor cut
# to the 23-byte default MTU (re-encryption after a reconnect can beat the MTU exchange).
from micropython import const

from firmware.protocol import kinds
from firmware.protocol.channels import AUDIO, EV_CLOSED, EV_DEAD, EV_OPEN, EV_ROOM, EVENTS
from firmware.protocol.offload import Offload
from firmware.protocol.session import Session
from firmware.runtime.sync import Flag

_MAX_ROUTES = const(24)
_MAX_LISTENERS = const(8)


class LinkService:
    def __init__(self, sched, gatt, version, board, caps, log=None, **session_kw):
        self.sched = sched
        self.gatt = gatt
        self.log = log
        self.session = Session("glasses", sched.clock, version, caps, self._send_frame,
                               self._on_message, self._on_event, board=board,
                               max_mtu=gatt.want_mtu, **session_kw)
        self.offload = Offload(self._send_event, clock=sched.clock)
        self.wake = Flag(sched)
        self.up = False
        self._ready = False  # authorised link, session not started until the phone writes
        self.peer = None  # the host's hello, once open
        self.on_audio = None  # fn(packet bytes) for AUDIO messages from the phone
        self._routes = {}
        self._listeners = []
        self._room = []
        self.unrouted = 0
        self.route_errors = 0
        self.rx_ch = -1  # channel of the message being routed
        gatt.on_frame = self._on_frame
        gatt.on_link = self._on_link
        gatt.on_writable = self.wake.set

    # ---- wiring -------------------------------------------------------------------------
    def route(self, kind, fn):
        """Messages of this kind (any channel) go to fn(msg)."""
        if len(self._routes) >= _MAX_ROUTES and kind not in self._routes:
            raise ValueError("too many routes")
        self._routes[kind] = fn

    def listen(self, fn):
        """fn(up) when the session opens (True) or closes (False)."""
        if len(self._listeners) >= _MAX_LISTENERS:
            raise ValueError("too many link listeners")
        self._listeners.append(fn)

    def on_room(self, fn):
        """fn(channel) when a full outbox has room again."""
        if len(self._room) >= _MAX_LISTENERS:
            raise ValueError("too many room listeners")
        self._room.append(fn)

    # ---- sending ------------------------------------------------------------------------
    def send(self, ch, msg):
        """Queue a message (delivered exactly once, across disconnects). False: that
        channel's outbox is full (wait for on_room)."""
        ok = self.session.send(ch, msg)
        self.wake.set()
        return ok

    def consumed(self, ch):
        """Done with a message whose handler returned False: its credit goes back."""
        self.session.consumed(ch)
        self.wake.set()

    def _send_event(self, msg):
        return self.send(EVENTS, msg)

    def event(self, topic, payload=None):
        return self.send(EVENTS, kinds.event(topic, payload))

    def send_audio(self, pkt):
        ok = self.session.send_audio(pkt)
        self.wake.set()
        return ok

    # ---- from the GATT layer --------------------------------------------------------------
    def _send_frame(self, frame):
        return self.gatt.send(frame)

    def _on_frame(self, data):
        if self._ready:
            self._ready = False
            self.session.link_up(self.gatt.mtu)
        self.session.feed(data)
        self.wake.set()

    def _on_link(self, up):
        if up:
            self._ready = True  # link_up at the phone's first frame (see the top)
        else:
            self._ready = False
            self.session.link_down()
            self._set_up(False)
        self.wake.set()

    # ---- from the session ----------------------------------------------------------------
    def _on_message(self, ch, msg):
        if ch == AUDIO:
            if self.on_audio is not None:
                self.on_audio(msg)
            return True
        if ch == EVENTS and self.offload.handle(msg):
            return True
        fn = self._routes.get(kinds.kind(msg))
        if fn is None:
            self.unrouted += 1
            if self.log is not None:
                self.log.warn("link: no route for message kind", kinds.kind(msg), ch)
            return True
        self.rx_ch = ch
        try:
            return fn(msg) is not False
        except Exception as e:  # one bad handler must not stop the link
            self.route_errors += 1
            if self.log is not None:
                self.log.error("link: handler failed", kinds.kind(msg), e)
        return True

    def _on_event(self, kind, detail):
        if kind == EV_OPEN:
            self.peer = detail
            if detail.get("peer_reset"):
                self.offload.peer_reset()
            self._set_up(True)
        elif kind == EV_CLOSED or kind == EV_DEAD:
            if self.log is not None:
                self.log.warn("link: session ended", kind, detail)
            self._set_up(False)
            if kind == EV_DEAD:
                self.gatt.disconnect()
        elif kind == EV_ROOM:
            self.offload.room()
            for fn in self._room:
                fn(detail)

    def _set_up(self, up):
        if up == self.up:
            return
        self.up = up
        if self.log is not None:
            self.log.info("link up" if up else "link down")
        for fn in self._listeners:
            fn(up)

    # ---- the task ------------------------------------------------------------------------
    async def run(self):
        gatt = self.gatt
        session = self.session
        while True:
            if gatt.writable.is_set():
                session.writable()
            ms = session.poll()
            await self.wake.wait(ms)

    def stats(self):
        s = self.session.stats()
        s["gatt"] = self.gatt.stats()
        s["up"] = self.up
        return s
