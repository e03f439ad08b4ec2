"""The phone's role, run for good: `glasses host`, and the host of `make sim`.

    svc = HostService(lambda: Phone(open_radio("virtual")))
    await ControlServer(svc).start()        # second-terminal commands come through here
    await svc.run()                          # until stop(), or a version mismatch

It keeps one Phone linked to the glasses (Phone.run: reconnect with exponential backoff),
attaches the host plugins to it (host_tools/phone/plugins.py: voice, notifications, OTA, as far
as they are in this build), and serves what the CLI asks through the control endpoint
(host_tools/phone/control.py): status, notify, logs (one LOGS request to the glasses however
many terminals follow them), forget, connect.

`forget` makes the glasses drop every bond and this host drop its keys; the host then
stops reconnecting (it would pair again at once) until `glasses connect` asks it to.
"""
import asyncio
import collections
import os
import time

from firmware.protocol import kinds
from firmware.protocol.channels import CONTROL, EV_AUDIO_GAP, EV_OPEN
from host_tools import errors as exits
from host_tools.phone import ops as link_ops, plugins
from host_tools.phone.ops import LOG_QUEUE, put_bounded

LOG_BACKLOG = 64  # log records a new follower gets first (the glasses' ring is as long)
_SEQ_MASK = (1 << 30) - 1  # firmware/runtime/log.py numbers records modulo 2**30


class HostService:
    def __init__(self, make_phone, plugin_list=None, announce=None):
        self.make_phone = make_phone
        self.plugin_list = plugin_list
        self.announce = announce or (lambda text: None)
        self.phone = None
        self.plugins = {}  # name -> (state, detail)
        self.paused = None  # why the host does not reconnect (None: it does)
        self.fatal = None
        self.started = time.time()
        self.audio_gaps = 0
        self.audio_gap_packets = 0
        self.log_dropped = 0
        self.recent = collections.deque(maxlen=20)  # (wall time, text) for views
        self.backlog = collections.deque(maxlen=LOG_BACKLOG)  # latest log records
        self._log_seq = None  # seq of the newest log record seen
        self._asked = None  # the phone that last asked the glasses for their log
        self._resume = asyncio.Event()
        self._stopping = False
        self._subs = {}  # log queue -> min level

    # ---- running ------------------------------------------------------------------------
    async def run(self):
        """Keep a link until stop(). Raises GlassesError("version_mismatch") if the glasses
        speak another protocol (retrying cannot help)."""
        while not self._stopping:
            phone = self._new_phone()
            try:
                await phone.run()
            except exits.VersionMismatch as e:
                self.fatal = exits.GlassesError("version_mismatch", str(e))
                self._note("stopped: %s" % e)
                raise self.fatal from None
            if self._stopping:
                break
            while self.paused is not None and not self._stopping:
                self._resume.clear()
                await self._resume.wait()

    def stop(self):
        self._stopping = True
        self._resume.set()
        if self.phone is not None:
            self.phone.stop()

    def _new_phone(self):
        phone = self.make_phone()
        user_announce = phone.announce
        phone.announce = lambda text: (self._note(text), user_announce(text))
        phone.route(kinds.LOG, self._on_log)
        phone.on("session", self._on_session_event)
        self.phone = phone
        self.plugins = plugins.attach_all(phone, self.plugin_list)
        for name, (state, detail) in sorted(self.plugins.items()):
            if state == "failed":
                self._note("plugin %s failed: %s" % (name, detail))
        return phone

    def _note(self, text):
        self.recent.append((time.time(), text))
        self.announce(text)

    def _on_session_event(self, kind, detail):
        if kind == EV_OPEN:
            if detail.get("peer_reset"):  # the glasses restarted: their log starts anew
                self._log_seq = None
            if self._subs and (detail.get("peer_reset") or self._asked is not self.phone):
                self._ask_logs(True)  # a new session (after forget) or restarted glasses
        elif kind == EV_AUDIO_GAP:
            self.audio_gaps += 1
            self.audio_gap_packets += detail[1]

    # ---- state for views and `hello` ----------------------------------------------------
    def state(self):
        if self.fatal is not None:
            return "stopped: %s" % self.fatal.message
        if self.paused is not None:
            return "paused: %s" % self.paused
        p = self.phone
        if p is None:
            return "starting"
        if p.is_open():
            return "open"
        if p.client is not None:
            return "connected, waiting for the hello"
        off = p.glasses_off
        if off is not None:
            from host_tools.power.host import describe
            return describe(off) + "; waiting for them"
        return "connecting" + (" (last: %s)" % p.last_error if p.last_error else "")

    def hello(self):
        p = self.phone
        peer = dict(p.peer) if p is not None and p.peer else None
        return {"pid": os.getpid(), "radio": p.radio.name if p is not None else None,
                "state": self.state(), "peer": peer,
                "connects": p.connects if p is not None else 0,
                "plugins": {n: s for n, (s, _d) in self.plugins.items()},
                "uptime_s": round(time.time() - self.started, 1)}

    def snapshot(self):
        """hello() plus this side's link statistics (for the live views)."""
        d = self.hello()
        p = self.phone
        d["host_link"] = p.session.stats() if p is not None else {}
        d["audio_gaps"] = self.audio_gaps
        d["rpc"] = ({"running": sorted(j.method for j in p.rpc.server.jobs.values()),
                     "completed": p.rpc.completed, "failed": p.rpc.failed,
                     "timed_out": p.rpc.timed_out, "cancelled": p.rpc.cancelled}
                    if p is not None else {})
        d["log_followers"] = len(self._subs)
        return d

    # ---- what the control endpoint asks --------------------------------------------------
    async def wait_open(self, timeout_s):
        if self.paused is not None:
            raise exits.GlassesError("failed", "the host is not linked: %s" % self.paused)
        try:
            await asyncio.wait_for(self._wait_phone_open(), timeout_s)
        except asyncio.TimeoutError:
            raise exits.GlassesError("link_timeout", "the link to the glasses is not open "
                                     "after %.0f s (%s)" % (timeout_s, self.state())) from None
        if self.fatal is not None:
            raise self.fatal
        return self.phone

    async def _wait_phone_open(self):
        while True:  # the phone may be replaced meanwhile (after forget, connect)
            p = self.phone
            if p is None:
                await asyncio.sleep(0.05)
                continue
            try:
                await asyncio.wait_for(p.wait_open(), 0.25)
            except asyncio.TimeoutError:
                continue
            except exits.PhoneError:  # that phone was stopped: its successor comes
                await asyncio.sleep(0.05)
                continue
            if p is self.phone:
                return

    async def status(self, timeout_s):
        phone = await self.wait_open(timeout_s)
        return await link_ops.status(phone, timeout_s)

    async def connect(self, timeout_s):
        if self.paused is not None:
            self._note("pairing again (glasses connect)")
            self.paused = None
            self._resume.set()
        phone = await self.wait_open(timeout_s)
        return dict(phone.peer or {})

    async def notify(self, fields, timeout_s):
        link_ops.notify_sender()  # "unavailable" before waiting for the link
        phone = await self.wait_open(timeout_s)
        return await link_ops.notify(phone, fields)

    async def forget(self, timeout_s, every=False):
        phone = await self.wait_open(timeout_s)

        def pause():
            self.paused = "the glasses forgot their bonds; `glasses connect` pairs again"
            phone.stop()

        ok, detail, removed = await link_ops.forget(phone, timeout_s, dropped=pause,
                                                    every=every)
        self._note("forget: %s%s" % (detail, "; host keys removed" if removed else ""))
        return ok, detail, removed

    # ---- log followers ------------------------------------------------------------------
    def _min_level(self):
        levels = [lv for lv in self._subs.values() if lv is not None]
        return min(levels) if levels else None

    def subscribe_logs(self, level=None):
        """A queue of log records (dicts) for one follower: the backlog first, then new
        ones. The glasses are asked once, whatever the number of followers."""
        q = asyncio.Queue(LOG_QUEUE)
        for rec in self.backlog:
            if _shown(rec, level):
                put_bounded(q, rec)
        before = self._min_level() if self._subs else -1
        self._subs[q] = level
        if self._min_level() != before:
            self._ask_logs(True)
        return q

    def unsubscribe_logs(self, q):
        if q in self._subs:
            del self._subs[q]
            if not self._subs:
                self._ask_logs(False)

    def _ask_logs(self, on):
        p = self.phone
        if p is not None and p.driver.session is not None:  # its run() has begun
            p.send(CONTROL, link_ops.logs_request(on, self._min_level()))
            self._asked = p if on else None

    def _on_log(self, msg):
        rec = link_ops.log_record(msg)
        seq = rec["seq"]
        if isinstance(seq, int):
            last = self._log_seq
            if last is not None and ((seq - last - 1) & _SEQ_MASK) >= (1 << 29):
                return  # seen already: the glasses resend their ring when asked again
            self._log_seq = seq
        self.backlog.append(rec)
        for q, level in list(self._subs.items()):
            if _shown(rec, level) and not put_bounded(q, rec):
                self.log_dropped += 1


def _shown(rec, level):
    return level is None or not isinstance(rec["level"], int) or rec["level"] >= level
