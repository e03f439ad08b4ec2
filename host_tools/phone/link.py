"""The phone's role: keep a link session with the glasses over BLE, serve the offload
jobs they ask for, and give apps (the CLI, a notification forwarder) an API.

    radio = open_radio("virtual")                      # host_tools.radio
    phone = Phone(radio, name="Glasses-A1B2")
    phone.rpc.register("asr", transcribe)              # offload handlers
    task = asyncio.create_task(phone.run())            # connect, pair, reconnect forever
    await phone.wait_open()
    print(await phone.status())
    phone.send(EVENTS, msg)                             # delivered exactly once
    phone.route(kinds.LOG, on_log)                      # messages by kind
    phone.on("event", fn) / on("audio", fn) / on("session", fn)   # (firmware's Emitter)

The same bleak calls run against the simulator (the bumble backend) and real glasses.
A Phone is the phone's Endpoint (firmware/protocol/endpoint.py): the same session and
router as the glasses' end, driven here by a SessionDriver (host_tools/phone/driver.py).
Lost connections are retried with exponential backoff; messages queued meanwhile go out
after the next hello.
"""
from __future__ import annotations

import asyncio
import logging
import socket
import time

import host_tools  # noqa: F401  (MicroPython mirrors for the shared firmware code)
from firmware.protocol import kinds, uuids
from firmware.protocol.channels import CONTROL, EV_CLOSED, EV_DEAD, EV_OPEN, EVENTS
from firmware.protocol.endpoint import Endpoint
from firmware.runtime.clock import RealClock
from host_tools.errors import GlassesNotFound, PhoneError, VersionMismatch
from host_tools.phone.rpc import RpcHost
from host_tools.phone.driver import SessionDriver

log = logging.getLogger(__name__)

HOST_VERSION = "0.1.0"
CAPS = ("rpc", "notify", "voice", "ota", "logs")
RX_UUID = uuids.RX
TX_UUID = uuids.TX
_STOP_POLL_S = 0.5  # wait_open() looks this often whether the phone was stopped


def system_local_time():
    """(unix seconds, UTC offset in minutes) from this computer's clock."""
    now = time.time()
    return int(now), int(time.localtime(now).tm_gmtoff // 60)


class _Log:
    """The endpoint's log calls on Python logging: what the glasses log as a warning (a
    message nobody routed, e.g. log records nobody follows) is only debug here."""

    def info(self, *args):
        log.debug("%s", " ".join(str(a) for a in args))

    warn = info

    def error(self, *args):
        log.warning("%s", " ".join(str(a) for a in args))


class Phone(Endpoint):
    def __init__(self, radio, name=None, address=None, clock=None, version=HOST_VERSION,
                 scan_timeout_s=5.0, backoff_s=(0.5, 30.0), max_frames=8, announce=None,
                 local_time=None, phone_name=None):
        self.radio = radio
        # () -> (unix s, UTC offset min): the wearer's wall clock, for the features that
        # tell the time (notify's quiet hours, voice's "what time is it")
        self.local_time = local_time or system_local_time
        self.name = name
        self.address = address
        self.clock = clock or RealClock()
        self.version = version
        self.scan_timeout_s = scan_timeout_s
        self.backoff_s = backoff_s
        self.announce = announce or (lambda text: log.info("%s", text))
        self.driver = SessionDriver(self._write, max_frames=max_frames)
        self.rpc = RpcHost(lambda m: self.send(EVENTS, m))
        # the glasses list their phones by the name a phone's hello gives (K_BOARD)
        self.phone_name = (phone_name or socket.gethostname() or "phone")[:32]
        Endpoint.__init__(self, "host", self.clock, version, list(CAPS),
                          self.driver.send_frame, self.driver.kick, board=self.phone_name,
                          rpc=self.rpc, claim=self._claim, log=_Log())
        self.client = None
        self.connects = 0
        self.last_error = None
        self.closed_reason = None
        self._waiters = {}  # reply kind -> [futures]
        self._open = None
        self._stopping = False
        self._hang_up = None  # the task that tells the glasses before stop() hangs up
        self._disconnected = None
        self.fatal = None  # an error that ends run(): retrying cannot help
        self.forgotten = None  # why the glasses forgot us (then run() ends)
        self.glasses_off = None  # their last word before a flat battery (host_tools/power)
        self.on("event", self._on_glasses_event)
        self.on("session", self._on_session)

    # ---- app API ----------------------------------------------------------------------
    def is_open(self):
        return self._open is not None and self._open.is_set()

    async def prefer_interval(self, idle):
        """Ask the BLE stack for the slow (idle) or fast end of the glasses' preferred
        connection interval. False where the stack decides that itself (BlueZ and
        CoreBluetooth through bleak offer no call) or the link is down."""
        client = self.client
        fn = getattr(getattr(client, "_backend", None), "prefer_interval", None)
        if fn is None or not self.is_open():
            return False
        try:
            return await fn(idle)
        except Exception as e:  # the link went meanwhile, the controller refused
            log.info("connection interval not changed: %s: %s", type(e).__name__, e)
            return False

    @property
    def stopped(self):
        """stop() was called: the link will not open again."""
        return self._stopping

    async def wait_open(self, timeout_s=None):
        """Until the link is open (asyncio.TimeoutError after timeout_s); PhoneError once
        the phone is stopped: it will not open again."""
        loop = asyncio.get_running_loop()
        end = None if timeout_s is None else loop.time() + timeout_s
        ev = self._open_event()
        while not ev.is_set():
            if self._stopping:
                raise PhoneError("the phone was stopped")
            step = _STOP_POLL_S if end is None else min(_STOP_POLL_S, end - loop.time())
            if step <= 0:
                raise asyncio.TimeoutError()
            try:
                await asyncio.wait_for(ev.wait(), step)
            except asyncio.TimeoutError:
                pass

    async def request(self, ch, msg, reply_kind, timeout_s=5.0):
        """Send msg and wait for the next message of reply_kind."""
        fut = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(reply_kind, []).append(fut)
        if not self.send(ch, msg):
            self._waiters[reply_kind].remove(fut)
            raise PhoneError("the %s outbox is full" % ch)
        try:
            return await asyncio.wait_for(fut, timeout_s)
        finally:
            if fut in self._waiters.get(reply_kind, ()):
                self._waiters[reply_kind].remove(fut)

    async def status(self, timeout_s=5.0):
        """The glasses' status (battery, firmware, board, link statistics, ...)."""
        msg = await self.request(CONTROL, {kinds.K: kinds.STATUS_REQ}, kinds.STATUS,
                                 timeout_s)
        st = dict(msg.get(1) or {})
        st["host_link"] = self.session.stats()
        return st

    async def forget(self, timeout_s=5.0, every=False):
        """Ask the glasses to forget this phone (every=True: every bonded phone)."""
        msg = {kinds.K: kinds.FORGET}
        if every:
            msg[1] = kinds.FORGET_ALL
        msg = await self.request(CONTROL, msg, kinds.RESULT, timeout_s)
        return bool(msg.get(2)), msg.get(3)

    def stop(self, grace_s=1.0):
        """Hang up for good. Jobs the glasses are waiting on end first: they hear
        RpcCancelled (within grace_s, while the link is up) rather than waiting out their
        timeouts; then the link goes."""
        again = self._stopping  # a second stop() does not wait any more
        self._stopping = True
        if self._disconnected is None:
            self.rpc.close("the phone stopped")
            return
        if self.is_open() and self.rpc.server.jobs and not again:
            self._hang_up = asyncio.ensure_future(self._tell_then_hang_up(grace_s))
        else:
            self._disconnected.set()

    async def _tell_then_hang_up(self, grace_s):
        self.rpc.close("the phone stopped")
        loop = asyncio.get_running_loop()
        until = loop.time() + grace_s
        while self.is_open() and self.session.pending(EVENTS) and loop.time() < until:
            await asyncio.sleep(0.01)
        if self._disconnected is not None:
            self._disconnected.set()

    # ---- from the endpoint -----------------------------------------------------------------
    def _open_event(self):
        if self._open is None:
            self._open = asyncio.Event()
        return self._open

    def _claim(self, kind, msg):
        """An awaited reply (request()) takes the message before the routes."""
        waiters = self._waiters.get(kind)
        if not waiters:
            return False
        fut = waiters.pop(0)
        if not fut.done():
            fut.set_result(msg)
        return True

    def _on_glasses_event(self, topic, payload):
        if topic == "gesture" and isinstance(payload, list) and payload[:1] == [
                "forget_bonds"]:
            # The wearer told the glasses to forget every phone: honour it here too (stop
            # reconnecting, drop our keys once the link is gone), or this phone would
            # silently pair again.
            self.forgotten = "the glasses forgot their bonds (both pads held)"
            self._stopping = True
            self.announce("link: %s; not reconnecting" % self.forgotten)

    def _on_session(self, kind, detail):
        if kind == EV_OPEN:
            self.closed_reason = None
            self._open_event().set()
            self.announce("link open: %s %s (%s)" % (detail.get("board"), detail.get("version"),
                                                    "resumed" if detail.get("resumed")
                                                    else "new session"))
        elif kind in (EV_CLOSED, EV_DEAD):
            self._open_event().clear()
            self.closed_reason = detail
            if kind == EV_CLOSED and "version mismatch" in str(detail):
                self.fatal = VersionMismatch(str(detail))  # retrying cannot help
                self._stopping = True
            self.announce("link %s: %s" % (kind, detail))
            if self.client is not None:
                asyncio.get_running_loop().create_task(self._drop())

    async def _drop(self):
        try:
            if self.client is not None:
                await self.client.disconnect()
        except Exception:  # already gone
            pass
        if self._disconnected is not None:  # bleak calls no callback for our own disconnect
            self._disconnected.set()

    # ---- transport ------------------------------------------------------------------------
    async def _write(self, frame):
        c = self.client
        if c is None:
            raise PhoneError("not connected")
        await c.write_gatt_char(RX_UUID, frame, response=False)

    def _on_notify(self, _char, data):
        self.driver.feed(bytes(data))

    async def _find(self):
        """The first glasses that match (name / address), as soon as they are heard; None
        if none within scan_timeout_s."""
        from bleak import BleakScanner

        def match(dev, ad):
            if self.address is not None and dev.address.upper() != self.address.upper():
                return False
            return self.name is None or ad.local_name == self.name

        return await BleakScanner.find_device_by_filter(
            match, timeout=self.scan_timeout_s, backend=self.radio.scanner,
            service_uuids=[uuids.SERVICE])

    async def connect_once(self):
        """One connection: find, connect, pair (or re-encrypt), start the session. Returns
        when the connection ends."""
        from bleak import BleakClient
        dev = await self._find()
        if dev is None:
            raise GlassesNotFound("%s not found" % (self.name or self.address) if
                                  self.name or self.address else "no glasses found")
        self._disconnected = asyncio.Event()
        client = BleakClient(dev, backend=self.radio.client,
                             disconnected_callback=lambda _c: self._disconnected.set())
        await client.connect()
        sub = None
        try:
            await client.pair()
            self.client = client
            # Subscribe and say hello in the same connection event: the CCCD write goes
            # out first and our hello follows it in order, so the glasses answer (their
            # hello, then what they have to resend) one interval later, not two. (bumble
            # registers the subscriber before writing the CCCD; an OS stack that does not
            # may miss that first answer: the glasses repeat their hello within 1 s.)
            sub = asyncio.ensure_future(client.start_notify(TX_UUID, self._on_notify))
            await asyncio.sleep(0)
            self.connects += 1
            self.driver.link_up(getattr(client, "mtu_size", 23) or 23)
            await sub
            await self._disconnected.wait()
        finally:
            if sub is not None and not sub.done():
                sub.cancel()
            self.client = None
            self.driver.link_down()
            self._open_event().clear()
            if self.forgotten is not None:
                try:
                    await client.unpair()
                except Exception as e:
                    self.announce("link: could not drop our keys: %s" % e)
            try:
                await client.disconnect()
            except Exception:
                pass

    async def _attempt(self):
        """connect_once() in a task of its own: bumble cancels the requests pending on a
        connection that drops, and that CancelledError must end the attempt, not run()."""
        t = asyncio.ensure_future(self.connect_once())
        try:
            await asyncio.wait({t})
        except asyncio.CancelledError:  # run() itself is cancelled
            t.cancel()
            await asyncio.gather(t, return_exceptions=True)
            raise
        if t.cancelled():
            raise PhoneError("the connection dropped while it was being set up")
        return t.result()

    async def run(self):
        """Keep the link up until stop(): reconnect with exponential backoff."""
        self.driver.attach(self.session)
        self._open_event()
        delay = self.backoff_s[0]
        try:
            while not self._stopping:
                try:
                    await self._attempt()
                    delay = self.backoff_s[0]
                except asyncio.CancelledError:
                    raise
                except Exception as e:  # not found, refused, dropped: try again later
                    self.last_error = "%s: %s" % (type(e).__name__, e)
                    if self.glasses_off is None:  # not while they said they went off
                        self.announce("link: %s; retrying in %.1f s" % (self.last_error,
                                                                        delay))
                if self.fatal is not None:
                    raise self.fatal
                if self._stopping:
                    break
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_s[1])
        finally:
            self.driver.close()
            self.rpc.close("the phone stopped")  # whatever is left: none stays pending
