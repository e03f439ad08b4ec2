"""Send an update to the glasses over the link (the phone's side of docs/ota.md).

    result = await send_update(phone, package_file_bytes, progress=lambda done, total: ...)

The package file (host_tools/ota/package.py) is cut into messages on the FILE channel:
the envelope (manifest + signature) in OTA_BEGIN pieces, then the files in OTA_CHUNKs of
at most CHUNK_BYTES, then OTA_FINISH. Flow control is the session's: `phone.send()`
refuses when the FILE outbox is full (the glasses hold back credit while they write and
check), and the sender waits for room. Every chunk is acknowledged with the bytes the
glasses hold; an acknowledgement with an error rewinds that file to what they hold.

Resuming: across a disconnect the session itself resends what the glasses had not
acknowledged (at most the outbox: one window of chunks). When the glasses restart (the
hello says peer_reset) the sender starts a new attempt: the envelope again, and the
glasses answer with the bytes they still hold per file (on flash), so the transfer goes on
from there. After OTA_DONE the glasses restart into the new copy; the sender then waits
(wait_healthy_s) for their OTA_REPORT: confirmed healthy, or rolled back (RolledBack with
the glasses' reason).
"""
from __future__ import annotations

import asyncio
import dataclasses
import weakref

import host_tools  # noqa: F401  (MicroPython mirrors for the shared firmware code)
from firmware.runtime import cbor
from firmware.protocol import kinds
from firmware.protocol.channels import EV_OPEN, EV_ROOM, FILE, MAX_MESSAGE
from host_tools.errors import OtaFailed, PackageError, RolledBack, UpdateRefused
from host_tools.ota import package as ota_package

K = kinds.K
_CHUNK_OVERHEAD = 24  # CBOR of {0:42, 1:i, 2:offset, 3:bytes} around the data, at most
CHUNK_BYTES = MAX_MESSAGE[FILE] - _CHUNK_OVERHEAD  # the most data one OTA_CHUNK carries
PIECE_BYTES = MAX_MESSAGE[FILE] - _CHUNK_OVERHEAD
_HEADERS = 3 + 3  # per frame: the ATT write header and the link frame header
MAX_ERRORS = 10  # failed attempts (a bad piece, a file gone bad at the finish) tolerated
MAX_RESTARTS = 1000  # glasses restarts during one update tolerated


class _Restart(Exception):
    """The glasses restarted (or asked for the package again): begin a new attempt."""


@dataclasses.dataclass
class Result:
    version: str
    outcome: str = ""  # "healthy", "switched" (not confirmed within the wait), "installed"
    detail: str = ""
    payload_bytes: int = 0  # file bytes in the package
    sent_bytes: int = 0  # chunk bytes handed to the session (all attempts)
    resent_bytes: int = 0  # chunk bytes sent again by this sender (rewinds, new attempts)
    envelope_bytes_sent: int = 0
    attempts: int = 0
    glasses_restarts: int = 0
    report: dict | None = None  # the glasses' last OTA_REPORT


def chunk_size(mtu, index, offset, limit=CHUNK_BYTES):
    """Data bytes for the OTA_CHUNK of file `index` at `offset` so the encoded message
    fills whole frames at this ATT MTU (a last, part-filled frame costs nearly a whole
    exchange on air), within the FILE channel's message limit and `limit`."""
    per_frame = mtu - _HEADERS
    target = MAX_MESSAGE[FILE] // per_frame * per_frame
    head = len(cbor.dumps({K: kinds.OTA_CHUNK, 1: index, 2: offset, 3: b""}))
    return max(1, min(limit, target - head - 2))  # +2: a >= 256-byte string's length


class OtaHost:
    """The phone's OTA routes; one per Phone (attach())."""

    def __init__(self, phone):
        self.phone = phone
        self.reports = []  # every OTA_REPORT's state dict, in order
        self.upload = None
        self._change = None  # an asyncio.Event replaced at every change
        for k in (kinds.OTA_STATE, kinds.OTA_ACK, kinds.OTA_DONE, kinds.OTA_REPORT):
            phone.route(k, self._on_message)
        phone.on("session", self._on_event)

    def _on_message(self, msg):
        k = msg.get(K)
        if k == kinds.OTA_REPORT:
            st = msg.get(1)
            if isinstance(st, dict):
                self.reports.append(st)
        elif self.upload is not None:
            self.upload.on_message(k, msg)
        self._changed()

    def _on_event(self, kind, detail):
        if self.upload is not None:
            if kind == EV_OPEN and detail.get("peer_reset"):
                self.upload.restarted += 1
            if kind == EV_ROOM and detail != FILE:
                return
        self._changed()

    def _changed(self):
        ev = self._change
        if ev is not None:
            self._change = None
            ev.set()

    def mark(self):
        """Take this before checking a condition, then `await wait(mark, t)`: a change
        between the check and the wait is not missed."""
        if self._change is None:
            self._change = asyncio.Event()
        return self._change

    async def wait(self, mark, timeout_s):
        """Until the next message or session event after `mark` (or the timeout)."""
        try:
            await asyncio.wait_for(mark.wait(), timeout_s)
        except asyncio.TimeoutError:
            pass


_hosts = weakref.WeakKeyDictionary()


def attach(phone):
    """The OtaHost of this phone (created at the first call)."""
    h = _hosts.get(phone)
    if h is None:
        h = _hosts[phone] = OtaHost(phone)
    return h


class _Upload:
    def __init__(self, host, envelope, m, datas, progress, chunk_bytes):
        self.host = host
        self.phone = host.phone
        self.envelope = envelope
        self.files = m[2]
        self.datas = datas
        self.progress = progress or (lambda done, total: None)
        self.chunk_bytes = chunk_bytes
        self.total = sum(f[1] for f in self.files)
        self.res = Result(version=m[0], payload_bytes=self.total)
        self.restarted = 0  # glasses restarts seen (peer_reset); a new attempt follows each
        self.errors = 0
        self.tag = 0
        self.state = None  # the OTA_STATE answering this attempt
        self.done = None  # OTA_DONE
        self.acked = None  # bytes held per file, from the glasses
        self.next = None  # next offset to send per file
        self.high = None  # highest offset ever sent per file (to count resends)

    # ---- from the glasses ----------------------------------------------------------------
    def on_message(self, k, msg):
        if k == kinds.OTA_STATE:
            if msg.get(4) == self.tag:
                self.state = msg
        elif k == kinds.OTA_ACK:
            if self.acked is None:
                return  # an answer to an earlier attempt's chunk
            i, held, err = msg.get(1), msg.get(2), msg.get(3)
            if not isinstance(i, int) or not 0 <= i < len(self.files) or \
                    not isinstance(held, int):
                return
            self.acked[i] = held
            if err is not None and held < self.next[i]:
                self.next[i] = held  # rewind: send that file again from what they hold
            self.progress(sum(self.acked), self.total)
        elif k == kinds.OTA_DONE:
            if self.acked is not None:
                self.done = msg

    # ---- the transfer --------------------------------------------------------------------
    def _mtu(self):
        client = self.phone.client
        mtu = getattr(client, "mtu_size", 0) if client is not None else 0
        return min(247, mtu) if mtu and mtu >= 23 else 247

    def _check_phone(self):
        if self.phone.stopped:
            raise OtaFailed("the phone was stopped; the glasses keep what they received "
                            "and the next update resumes from there")

    async def _send(self, msg, epoch):
        while True:
            mark = self.host.mark()
            if self.restarted != epoch:
                raise _Restart()
            self._check_phone()
            if self.phone.is_open() and self.phone.send(FILE, msg):
                return
            await self.host.wait(mark, 5.0)

    async def _wait(self, cond, epoch, timeout_s):
        """Until cond(); the timeout counts only while the link is open."""
        loop = asyncio.get_running_loop()
        left = timeout_s
        while True:
            mark = self.host.mark()
            if cond():
                return
            if self.restarted != epoch:
                raise _Restart()
            self._check_phone()
            if left < 0.001:  # (a wait shorter than the loop's clock resolution
                # returns at once without time passing)
                raise OtaFailed("the glasses did not answer within %.0f s" % timeout_s)
            t0 = loop.time()
            is_open = self.phone.is_open()
            await self.host.wait(mark, min(left, 5.0) if is_open else 5.0)
            if is_open:
                left -= loop.time() - t0

    async def attempt(self, reply_timeout_s):
        """One go from the envelope to OTA_DONE; True if the package is installed."""
        epoch = self.restarted
        self.res.attempts += 1
        self.tag += 1
        self.state = self.done = self.acked = None
        env = self.envelope
        for off in range(0, len(env), PIECE_BYTES):
            piece = env[off:off + PIECE_BYTES]
            msg = {K: kinds.OTA_BEGIN, 1: len(env), 2: off, 3: piece, 4: self.tag}
            await self._send(msg, epoch)
            self.res.envelope_bytes_sent += len(piece)
        # the signature check takes seconds on a small MCU
        await self._wait(lambda: self.state is not None, epoch, reply_timeout_s + 30)
        st = self.state
        code = st.get(3)
        if code == "refused":
            raise UpdateRefused(st.get(2) or "refused")
        if code == "installed":
            self.res.outcome = "installed"
            self.res.detail = st.get(2) or ""
            return True
        offsets = st.get(1)
        if code != "ready" or not isinstance(offsets, list) or len(offsets) != len(self.files):
            self.errors += 1  # a bad piece or a flash error: start over
            self.res.detail = st.get(2) or "unexpected answer %r" % code
            return False
        self.acked = list(offsets)
        self.next = list(offsets)
        if self.high is None:
            self.high = list(offsets)
        self.progress(sum(self.acked), self.total)
        sizes = [f[1] for f in self.files]
        while True:
            i = next((j for j in range(len(sizes)) if self.next[j] < sizes[j]), -1)
            if i < 0:
                if all(self.acked[j] >= sizes[j] for j in range(len(sizes))):
                    break
                await self._wait(lambda: any(self.next[j] < sizes[j] for j in range(
                    len(sizes))) or all(self.acked[j] >= sizes[j] for j in range(
                        len(sizes))), epoch, reply_timeout_s)
                continue
            off = self.next[i]
            n = chunk_size(self._mtu(), i, off, self.chunk_bytes)
            data = self.datas[i][off:off + n]
            await self._send({K: kinds.OTA_CHUNK, 1: i, 2: off, 3: data}, epoch)
            self.next[i] = off + len(data)
            self.res.sent_bytes += len(data)
            if off < self.high[i]:
                self.res.resent_bytes += min(len(data), self.high[i] - off)
            self.high[i] = max(self.high[i], off + len(data))
        await self._send({K: kinds.OTA_FINISH}, epoch)
        await self._wait(lambda: self.done is not None, epoch, reply_timeout_s + 30)
        if not self.done.get(1):
            self.errors += 1  # a file went bad on flash: the next attempt resends it
            self.res.detail = self.done.get(2) or ""
            return False
        self.res.outcome = "switched"
        self.res.detail = self.done.get(2) or ""
        return True


async def send_update(phone, package_bytes, progress=None, wait_healthy_s=600.0,
                      reply_timeout_s=30.0, chunk_bytes=CHUNK_BYTES, on_status=None):
    """Send a package file to the glasses and see it installed. Returns a Result;
    raises UpdateRefused / RolledBack / OtaFailed (with the reason), or
    PackageError for a file that is not a package.

    progress(done, total): bytes the glasses hold, after each acknowledgement.
    on_status(text): what the update is doing (checking, sending, waiting for the glasses).
    wait_healthy_s: after the switch, how long to wait for the glasses to confirm the new
    firmware (0: do not wait; the result's outcome is then "switched")."""
    envelope, m, datas = ota_package.open_package(package_bytes)
    if not 64 <= chunk_bytes <= CHUNK_BYTES:
        raise ValueError("chunk_bytes must be 64..%d" % CHUNK_BYTES)
    if len(cbor.dumps({K: kinds.OTA_CHUNK, 1: len(datas), 2: 1 << 31, 3: bytes(chunk_bytes)})
           ) > MAX_MESSAGE[FILE]:
        raise ValueError("chunk_bytes too large for the file channel")
    say = on_status or (lambda text: None)
    host = attach(phone)
    if host.upload is not None:
        raise OtaFailed("an update is already being sent to these glasses")
    up = _Upload(host, envelope, m, datas, progress, chunk_bytes)
    host.upload = up
    try:
        installed = False
        while not installed:
            if up.errors >= MAX_ERRORS:
                raise OtaFailed("gave up after %d failed attempts: %s" % (up.errors,
                                                                           up.res.detail))
            if up.restarted >= MAX_RESTARTS:
                raise OtaFailed("gave up: the glasses restarted %d times" % up.restarted)
            if not phone.is_open():
                say("waiting for the glasses")
                await phone.wait_open()
            say("sending %s (%d files, %d bytes)" % (m[0], len(m[2]), up.total))
            try:
                installed = await up.attempt(reply_timeout_s)
            except _Restart:
                say("the glasses restarted: resuming")
        up.res.glasses_restarts = up.restarted
        n_reports = len(host.reports)
        if wait_healthy_s <= 0 or (up.res.outcome == "installed" and
                                   "on trial" not in up.res.detail):
            up.res.report = host.reports[-1] if host.reports else None
            return up.res
        say("switched: waiting for the glasses to confirm %s" % m[0])
        return await _wait_outcome(host, up.res, m[0], n_reports, wait_healthy_s)
    finally:
        host.upload = None


async def _wait_outcome(host, res, version, since, wait_s):
    loop = asyncio.get_running_loop()
    end = loop.time() + wait_s
    while True:
        for st in host.reports[since:]:
            res.report = st
            if st.get("version") == version and not st.get("on_trial"):
                res.outcome = "healthy"
                res.detail = st.get("event") or ""
                return res
            ev = st.get("event") or ""
            if st.get("version") != version and "rolled back" in ev:
                raise RolledBack(ev)
        since = len(host.reports)
        mark = host.mark()
        left = end - loop.time()
        if left < 0.001:
            return res  # outcome stays "switched": not confirmed within the wait
        await host.wait(mark, min(left, 5.0))


def result_dict(res):
    """A Result as plain data (for the control endpoint's JSON)."""
    return dataclasses.asdict(res)


async def control_op(service, req, emit):
    """The running host's `ota` request (host_tools/phone/control.py): send the package file at
    req["package"] (a path: the host, run by the same user, reads it) over its link. emit(item)
    writes a line to the client: {"progress": [done, total]}, {"status": text}, and last
    {"done": result}; the result is returned as well. Failures are GlassesError."""
    from host_tools import errors as exits
    path = req.get("package")
    wait_s = req.get("wait_s", 600.0)
    timeout_s = float(req.get("timeout_s") or 30.0)
    if not isinstance(path, str) or not isinstance(wait_s, (int, float)) or wait_s < 0:
        raise exits.GlassesError("bad_request", "ota needs 'package' (a file path) and "
                                 "'wait_s' >= 0")
    try:
        with open(path, "rb") as f:
            data = f.read()
        ota_package.open_package(data)
    except (OSError, PackageError) as e:
        raise exits.GlassesError("bad_request", str(e)) from None
    phone = await service.wait_open(timeout_s)
    try:
        res = await send_update(phone, data, wait_healthy_s=float(wait_s),
                                progress=lambda done, total: emit({"progress": [done, total]}),
                                on_status=lambda text: emit({"status": text}))
    except UpdateRefused as e:
        raise exits.GlassesError("failed", "the glasses refused the update: %s"
                                 % e.reason) from None
    except RolledBack as e:
        raise exits.GlassesError("failed", "the new firmware did not get healthy and was "
                                 "rolled back: %s" % e.reason) from None
    except OtaFailed as e:
        raise exits.GlassesError("failed", e.reason) from None
    out = result_dict(res)
    emit({"done": out})
    return out
