# The glasses' link service: the GATT peripheral (firmware/ble/gatt.py) carries frames,
# and the glasses' Endpoint (firmware/protocol/endpoint.py: the session and its router,
# the same code as the phone's) turns them into messages for the features.
#
#   link = LinkService(sched, gatt, "0.1.0", "xiao_esp32s3_sense", caps, log)
#   link.route(kinds.STATUS_REQ, on_status_request)      # by message kind (key 0)
#   link.on("audio", playback.push) / link.on("up", fn) / link.on("room", fn)
#   link.send(EVENTS, msg) / link.send_audio(pkt)
#   answer = await link.offload.call("asr", ...)          # offload RPC to the phone
#   sched.spawn(link.run, prio=PRIO_LINK)
#
# One session per bonded phone (at most MAX_PHONES): its outbox, sequence numbers, acks
# and statistics are its own, so nothing queued for one phone ever reaches another. The
# phone on the link picks the session (by its bond key, gatt.peer_key) before the session
# starts; while no phone is linked, what the features send waits in the last one's. The
# first phone after boot adopts the session the features used until then. A phone whose
# bond is gone loses its session; calls waiting on another phone's answers fail.
#
# Nothing leaves before the link is encrypted and bonded: the GATT layer refuses to
# notify before that, and the session only starts (link_up) when it is so, and the
# phone has written its first frame (its hello): the phone subscribes to TX and settles
# the ATT MTU before it writes, so our hello is neither notified into the void nor cut
# to the 23-byte default MTU (re-encryption after a reconnect can beat the MTU exchange).
from micropython import const

from firmware.protocol.channels import EV_CLOSED, EV_DEAD, EV_OPEN, EVENTS
from firmware.protocol.endpoint import Endpoint
from firmware.protocol.offload import Offload
from firmware.runtime.sync import Flag

MAX_PHONES = const(4)


class LinkService(Endpoint):
    def __init__(self, sched, gatt, version, board, caps, log=None, **session_kw):
        self.sched = sched
        self.gatt = gatt
        self.wake = Flag(sched)
        self.offload = Offload(self._send_event, clock=sched.clock)
        Endpoint.__init__(self, "glasses", sched.clock, version, caps, gatt.send,
                          self.wake.set, board=board, rpc=self.offload, log=log,
                          max_mtu=gatt.want_mtu, **session_kw)
        self._ready = False  # authorised link, session not started until the phone writes
        self.phones = {}  # bond key -> [Session, ticks_ms last linked or None]
        self._order = []  # the keys, least recently linked first
        self.owner = None  # bond key of the phone self.session belongs to (None: nobody yet)
        self.on("session", self._on_session)
        gatt.on_frame = self._on_frame
        gatt.on_link = self._on_link
        gatt.on_writable = self.wake.set

    def _send_event(self, msg):
        return self.send(EVENTS, msg)

    # ---- from the GATT layer --------------------------------------------------------------
    def _on_frame(self, data):
        if self._ready:
            self._ready = False
            self.session.link_up(self.gatt.mtu)
        self.session.feed(data)
        self.wake.set()

    def _on_link(self, up):
        if up:
            self._use_phone(self.gatt.peer_key)
            self._ready = True  # link_up at the phone's first frame (see the top)
        else:
            self._ready = False
            self.session.link_down()
            self.set_up(False)
        self.wake.set()

    def _on_session(self, kind, detail):
        if kind == EV_OPEN and self.owner is not None:
            p = self.phones.get(self.owner)
            if p is not None:
                p[1] = self.sched.clock.ticks_ms()
            name = detail.get("board")  # a phone says its name in its hello
            if name:
                self.gatt.bonds.set_name(self.owner, name)
        if kind == EV_CLOSED or kind == EV_DEAD:
            if self.log is not None:
                self.log.warn("link: session %s: %s", kind, detail)
            if kind == EV_DEAD:
                self.gatt.disconnect()

    # ---- one session per phone -------------------------------------------------------------
    def _use_phone(self, key):
        if key is None or key == self.owner:
            if key is not None:
                self._touch(key)
            return
        p = self.phones.get(key)
        if p is None:
            self._prune()
            s = self.session if self.owner is None else self.new_session()
            p = self.phones[key] = [s, None]
        if p[0] is not self.session and self.owner is not None:
            self.offload.peer_reset("another phone took the link")
        self.session = p[0]
        self.owner = key
        self._touch(key)

    def _touch(self, key):
        if key in self._order:
            self._order.remove(key)
        self._order.append(key)

    def _prune(self):
        """Make room for one more phone: the sessions of phones no longer bonded go,
        then the least recently linked."""
        bonds = self.gatt.bonds
        for k in list(self._order):
            if not bonds.has_peer(k):
                self._drop(k)
        while len(self._order) >= MAX_PHONES:
            self._drop(self._order[0])

    def _drop(self, key):
        self.phones.pop(key, None)
        if key in self._order:
            self._order.remove(key)
        if key == self.owner:
            self.owner = None
            self.session = self.new_session()  # nothing of the old one goes anywhere

    def forget_phone(self, key=None):
        """The phone's bond went (key) or every bond (None): so do their sessions."""
        for k in ([key] if key is not None else list(self._order)):
            self._drop(k)

    def phone_list(self):
        """[(name, ms since last linked or None, linked now)] of the bonded phones."""
        c = self.sched.clock
        now = c.ticks_ms()
        out = []
        bonds = self.gatt.bonds
        linked = self.gatt.peer_key
        for key in bonds.peers():
            p = self.phones.get(key)
            seen = p[1] if p is not None else None
            out.append((bonds.name_of(key), c.ticks_diff(now, seen) if seen is not None
                        else None, key == linked and self.up))
        return out

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
