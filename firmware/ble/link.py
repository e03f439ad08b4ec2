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
# Nothing leaves before the link is encrypted and bonded: the GATT layer refuses to
# notify before that, and the session only starts (link_up) when it is so, and the
# phone has written its first frame (its hello): the phone subscribes to TX and settles
# the ATT MTU before it writes, so our hello is neither notified into the void nor cut
# to the 23-byte default MTU (re-encryption after a reconnect can beat the MTU exchange).
from firmware.protocol.channels import EV_CLOSED, EV_DEAD, EVENTS
from firmware.protocol.endpoint import Endpoint
from firmware.protocol.offload import Offload
from firmware.runtime.sync import Flag


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
            self._ready = True  # link_up at the phone's first frame (see the top)
        else:
            self._ready = False
            self.session.link_down()
            self.set_up(False)
        self.wake.set()

    def _on_session(self, kind, detail):
        if kind == EV_CLOSED or kind == EV_DEAD:
            if self.log is not None:
                self.log.warn("link: session ended", kind, detail)
            if kind == EV_DEAD:
                self.gatt.disconnect()

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
