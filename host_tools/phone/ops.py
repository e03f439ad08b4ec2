"""What the CLI asks of the glasses, on a Phone (host_tools/phone/link.py): shared by the
running host (host_tools/phone/service.py) and the CLI's own one-shot link (DirectLink,
when no host runs).

    link = DirectLink(open_radio("virtual"), name="Glasses-A1B2")
    await link.open()                      # find, connect, pair or re-encrypt, hello
    print(await status(link.phone))
    await link.close()                     # waits until what it sent was acknowledged
"""
import asyncio
import inspect

from firmware.protocol import kinds
from firmware.protocol.channels import CONTROL, EV_CLOSED, EV_DEAD, RELIABLE
from firmware.runtime.log import INFO
from host_tools import errors as exits
from host_tools.phone import plugins
from host_tools.phone.link import Phone

NOTIFY_PLUGIN = "host_tools.notify.host"
CONNECT_TIMEOUT_S = 10.0  # connect + pair + hello, after the glasses were found
DRAIN_TIMEOUT_S = 3.0  # how long close() waits for the glasses to acknowledge
FORGET_DROP_S = 2.0  # the glasses drop the link ~100 ms after answering a forget
LOG_QUEUE = 256  # records a slow log follower may lag behind before the oldest go


def put_bounded(q, item):
    """Queue item; drop the oldest when full. Returns False if something was dropped."""
    dropped = False
    while q.full():
        q.get_nowait()
        dropped = True
    q.put_nowait(item)
    return not dropped


async def status(phone, timeout_s=5.0):
    try:
        return await phone.status(timeout_s)
    except asyncio.TimeoutError:
        raise exits.GlassesError("link_timeout", "the glasses did not answer the status "
                                 "request within %.0f s" % timeout_s) from None


def notify_sender():
    """notify_host.send_notification, or GlassesError("unavailable")."""
    mod = plugins.available(NOTIFY_PLUGIN)
    fn = getattr(mod, "send_notification", None) if mod is not None else None
    if fn is None:
        raise exits.GlassesError("unavailable", "sending notifications is not available in "
                                 "this build (%s.send_notification is missing); --dry-run "
                                 "still checks a notification" % NOTIFY_PLUGIN)
    return fn


async def notify(phone, fields):
    """Send a notification (validated fields) with the notify plugin; its result."""
    out = notify_sender()(phone, **fields)
    if inspect.isawaitable(out):
        out = await out
    return out


def logs_request(on, level=None):
    return {kinds.K: kinds.LOGS, 1: bool(on), 2: INFO if level is None else int(level)}


def log_record(msg):
    """A LOG message as a plain dict."""
    return {"seq": msg.get(1), "tick_ms": msg.get(2), "level": msg.get(3),
            "text": msg.get(4)}


async def forget(phone, timeout_s=5.0, dropped=None, every=False):
    """The glasses forget this phone (every=True: every phone) and drop the link; then this
    host forgets its keys for them. dropped() runs once the link is gone after an ok (a
    host stops reconnecting there, or it would pair again). Returns (ok, detail,
    host_keys_removed)."""
    client = phone.client
    if client is None:
        raise exits.GlassesError("link_timeout", "not connected to the glasses")
    try:
        ok, detail = await phone.forget(timeout_s, every)
    except asyncio.TimeoutError:
        raise exits.GlassesError("link_timeout", "the glasses did not answer the forget "
                                 "request within %.0f s" % timeout_s) from None
    if not ok:
        return ok, detail, False
    loop = asyncio.get_running_loop()
    end = loop.time() + FORGET_DROP_S  # they forget ~100 ms after answering, and drop us
    while client.is_connected and loop.time() < end:
        await asyncio.sleep(0.02)
    if dropped is not None:
        dropped()
    try:
        await client.unpair()  # our keys for them (bleak: the OS's bond; bumble: bonds.json)
    except Exception as e:
        return ok, "%s; this host could not forget its keys: %s" % (detail, e), False
    return ok, detail, True


class DirectLink:
    """The CLI's own link to the glasses (no host running): one connection, one session."""

    def __init__(self, radio, name=None, address=None, timeout_s=5.0, connect_timeout_s=None):
        self.radio = radio
        self.timeout_s = timeout_s
        self.connect_timeout_s = CONNECT_TIMEOUT_S if connect_timeout_s is None \
            else connect_timeout_s
        self.phone = Phone(radio, name=name, address=address, scan_timeout_s=timeout_s,
                           announce=lambda text: None)
        self.phone.on("session", self._on_session_event)
        self.ended = None  # (kind, detail) of the session event that ended the link
        self._task = None

    def _on_session_event(self, kind, detail):
        if kind in (EV_CLOSED, EV_DEAD):
            self.ended = (kind, detail)

    @property
    def via(self):
        return "over BLE (%s radio)" % self.radio.name

    async def open(self):
        """Connect and open the session; GlassesError (not found, pairing refused, version
        mismatch, no adapter, link timeout) otherwise."""
        phone = self.phone
        phone.driver.attach(phone.session)
        self._task = asyncio.ensure_future(phone.connect_once())
        opened = asyncio.ensure_future(phone.wait_open())
        limit_s = self.timeout_s + self.connect_timeout_s
        try:
            done, _ = await asyncio.wait({self._task, opened}, timeout=limit_s,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            opened.cancel()
        if opened.done() and not opened.cancelled():
            opened.exception()  # (a phone stopped meanwhile: the task's outcome says why)
        if phone.is_open():
            return phone.peer
        if self._task in done:
            if self._task.cancelled():  # bumble cancels what a dropped connection waited for
                raise exits.GlassesError("failed", "the connection dropped while it was "
                                         "being set up; try again")
            e = self._task.exception()
            if e is not None:
                raise exits.classify(e, self.radio)
            if phone.fatal is not None:
                raise exits.classify(phone.fatal, self.radio)
            if self.ended is not None and self.ended[0] == EV_DEAD:
                raise exits.GlassesError("link_timeout", "connected, but the link did not "
                                         "open: %s" % (self.ended[1],))
            raise exits.GlassesError("failed", "the glasses ended the connection before "
                                     "the link opened (%s)" % (phone.closed_reason or
                                                               "no reason given"))
        raise exits.GlassesError("link_timeout", "%s within %.0f s" % (
            "connected, but the link did not open" if phone.client is not None else
            "could not connect", limit_s))

    async def close(self):
        phone = self.phone
        loop = asyncio.get_running_loop()
        end = loop.time() + DRAIN_TIMEOUT_S  # what we sent goes out before we hang up
        while phone.is_open() and loop.time() < end and \
                any(phone.session.pending(ch) for ch in RELIABLE):
            await asyncio.sleep(0.02)
        phone.stop()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        phone.driver.close()
        await self.radio.close()

    # the same calls as a host's control endpoint (host_tools/phone/client.py)
    async def status(self, timeout_s):
        return await status(self.phone, timeout_s)

    async def connect(self, timeout_s):
        return dict(self.phone.peer or {})

    async def notify(self, fields, timeout_s):
        return await notify(self.phone, fields)

    async def forget(self, timeout_s, every=False):
        return await forget(self.phone, timeout_s, every=every)

    async def logs(self, level):
        q = asyncio.Queue(LOG_QUEUE)
        self.phone.route(kinds.LOG, lambda msg: put_bounded(q, log_record(msg)))
        self.phone.send(CONTROL, logs_request(True, level))
        try:
            while True:
                yield await q.get()
        finally:
            if self.phone.is_open():
                self.phone.send(CONTROL, logs_request(False))
