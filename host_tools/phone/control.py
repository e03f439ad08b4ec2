"""The running host's local control endpoint: how `glasses status` (and notify, logs,
forget, connect) from a second terminal reach the glasses while `glasses host` or
`make sim` holds the BLE link (a peripheral serves one central at a time).

Where: a Unix socket, `control.sock` in the host's config dir ($GLASSES_CONFIG_DIR or
~/.config/glasses, created 0700; the socket itself is 0600): only this user reaches it.

Protocol: JSON lines (UTF-8, one object per line, at most MAX_LINE bytes). A client opens
a connection, sends one request, reads the answer, and closes:

    -> {"op": "status", "timeout_s": 5}
    <- {"ok": true, "result": {"battery": 87, "firmware": "0.1.0", ...}}
    <- {"ok": false, "kind": "link_timeout", "error": "the link to the glasses is not open"}

    op        arguments                 result
    hello     -                         {"pid", "radio", "state", "peer", ...} (no glasses needed)
    status    timeout_s                 the glasses' status (with "host_link": this side's)
    connect   timeout_s                 the peer's hello (after `forget`, pairs again)
    notify    fields, timeout_s         what notify_host.send_notification returned
    forget    timeout_s, every          {"ok", "detail", "host_keys_removed"}: this phone
                                        (every: true: every phone the glasses bonded)
    logs      level                     a stream: {"log": {"seq", "tick_ms", "level", "text"}}
                                        lines until the client closes the connection
    ota       package, wait_s, timeout_s an update (host_tools/ota/host.py): {"progress":
                                        [done, total]} / {"status": text} lines, then the
                                        result {"outcome", "version", "detail", ...}
    world     event                     `make sim` only: one scenario event now ("tap",
                                        "say what time is it"): {"done": its description}

"kind" is one of host_tools/errors.py CODES, so a command exits with the same code through
the host as over BLE. A second host finding a live endpoint does not take it over.
"""
import asyncio
import json
import os

from host_tools import errors as exits
from host_tools.config import config_dir, private_dir

SOCKET_NAME = "control.sock"
MAX_LINE = 64 * 1024
OPS = ("hello", "status", "connect", "notify", "forget", "logs", "ota", "world")


def socket_path(directory=None):
    return os.path.join(config_dir(directory), SOCKET_NAME)


def _line(obj):
    return (json.dumps(obj, default=repr, ensure_ascii=False) + "\n").encode()


# ---- client ---------------------------------------------------------------------------
async def _open(path):
    """(reader, writer) to a live endpoint, or None when no host listens there."""
    if not os.path.exists(path):
        return None
    try:
        return await asyncio.open_unix_connection(path, limit=MAX_LINE)
    except OSError:  # refused: a stale socket, the host is gone
        return None


async def find(directory=None):
    """The running host's hello (a dict) if one serves the endpoint in this config dir,
    else None."""
    try:
        return await request(socket_path(directory), "hello", timeout_s=2)
    except (exits.GlassesError, OSError, asyncio.TimeoutError):
        return None


async def request(path, op, timeout_s=10.0, **args):
    """One request; its result, or GlassesError(kind, message) from the host. Raises
    GlassesError("failed") when no host answers."""
    conn = await _open(path)
    if conn is None:
        raise exits.GlassesError("failed", "no host is running (no endpoint at %s)" % path)
    reader, writer = conn
    try:
        writer.write(_line(dict(args, op=op, timeout_s=timeout_s)))
        await writer.drain()
        raw = await asyncio.wait_for(reader.readline(), timeout_s + 5)
    finally:
        writer.close()
    return _result(raw)


def _result(raw):
    if not raw:
        raise exits.GlassesError("failed", "the host closed the control connection (did it "
                                 "stop?)")
    msg = json.loads(raw)
    if msg.get("ok"):
        return msg.get("result")
    kind = msg.get("kind") if msg.get("kind") in exits.CODES else "failed"
    raise exits.GlassesError(kind, msg.get("error") or "the host refused the request")


async def stream(path, op, **args):
    """An async generator of the stream items of a streaming request (logs)."""
    conn = await _open(path)
    if conn is None:
        raise exits.GlassesError("failed", "no host is running (no endpoint at %s)" % path)
    reader, writer = conn
    try:
        writer.write(_line(dict(args, op=op)))
        await writer.drain()
        while True:
            raw = await reader.readline()
            msg = json.loads(raw) if raw else None
            if msg is None or "ok" in msg:
                _result(raw or b"")  # the end: an error, or the host went away
                return
            yield msg
    finally:
        writer.close()


# ---- server ---------------------------------------------------------------------------
def _parse(raw):
    """The request in one line, or GlassesError("bad_request") saying what is wrong."""
    if raw is None:
        raise exits.GlassesError("bad_request", "request longer than %d bytes" % MAX_LINE)
    try:
        req = json.loads(raw)
    except ValueError as e:  # not JSON, not UTF-8
        raise exits.GlassesError("bad_request", "not a JSON line: %s" % e) from None
    if not isinstance(req, dict) or req.get("op") not in OPS:
        raise exits.GlassesError("bad_request", "unknown request %s (ops: %s)" %
                                 (raw[:80].decode("utf-8", "replace").strip(), ", ".join(OPS)))
    t = req.get("timeout_s", 10.0)
    if t is not None and (not isinstance(t, (int, float)) or isinstance(t, bool) or
                          not 0 < t <= 3600):
        raise exits.GlassesError("bad_request", "timeout_s must be a number of seconds "
                                 "in (0, 3600], not %r" % (t,))
    return req


class ControlServer:
    """Serves the endpoint for a host_tools.phone.service.HostService. world: fn(text) ->
    description that acts on a simulated world (`make sim`), or None (a real radio)."""

    def __init__(self, service, directory=None, world=None):
        self.service = service
        self.world = world
        self.path = socket_path(directory)
        self._server = None
        self.requests = 0
        self.errors = 0

    async def start(self):
        """Listen; EndpointBusy if another host answers there."""
        d = private_dir(os.path.dirname(self.path))
        if os.path.exists(self.path):
            other = await find(d)
            if other is not None:
                raise exits.EndpointBusy("another host (pid %s) already serves %s" %
                                   (other.get("pid"), self.path))
            os.unlink(self.path)  # left behind by a host that died
        self._server = await asyncio.start_unix_server(self._client, self.path,
                                                       limit=MAX_LINE)
        os.chmod(self.path, 0o600)
        return self.path

    async def close(self):
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass

    async def _client(self, reader, writer):
        try:
            try:
                raw = await reader.readline()
            except ValueError:  # longer than MAX_LINE without a newline
                raw = None
            if raw == b"":
                return
            self.requests += 1
            try:
                req = _parse(raw)
                if req["op"] == "logs":
                    await self._logs(req, reader, writer)
                    return
                reply = {"ok": True, "result": await self._call(req, writer)}
            except exits.GlassesError as e:
                reply = {"ok": False, "kind": e.kind, "error": e.message}
            except Exception as e:  # report it; the host goes on
                reply = {"ok": False, "kind": "failed",
                         "error": "%s: %s" % (type(e).__name__, e)}
            if not reply["ok"]:
                self.errors += 1
            writer.write(_line(reply))
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away
        finally:
            writer.close()

    async def _call(self, req, writer=None):
        s = self.service
        op = req["op"]
        t = float(req.get("timeout_s") or 10.0)
        if op == "hello":
            return s.hello()
        if op == "status":
            return await s.status(t)
        if op == "connect":
            return await s.connect(t)
        if op == "notify":
            fields = req.get("fields")
            if not isinstance(fields, dict):
                raise exits.GlassesError("bad_request", "notify needs 'fields' (a map)")
            r = await s.notify(fields, t)
            return r.as_dict() if hasattr(r, "as_dict") else r  # a Reply travels as a map
        if op == "world":
            return {"done": self._world(req.get("event"))}
        if op == "ota":  # progress lines go out before the result
            from host_tools.ota import host as ota_host
            return await ota_host.control_op(s, req, lambda item: writer.write(_line(item)))
        ok, detail, removed = await s.forget(t, bool(req.get("every")))
        return {"ok": ok, "detail": detail, "host_keys_removed": removed}

    def _world(self, text):
        if self.world is None:
            raise exits.GlassesError("bad_request", "this host has no simulated world: "
                                     "`glasses world` acts on the glasses of `make sim`")
        if not isinstance(text, str) or not text.strip():
            raise exits.GlassesError("bad_request", "world needs 'event': a scenario line "
                                     "without its time, e.g. \"tap\"")
        try:
            return self.world(text.strip())
        except ValueError as e:  # sim.scenario.ScenarioError: what is wrong with the event
            raise exits.GlassesError("bad_request", str(e)) from None

    async def _logs(self, req, reader, writer):
        level = req.get("level")
        q = self.service.subscribe_logs(level if isinstance(level, int) else None)
        gone = asyncio.ensure_future(reader.read())  # EOF: the client hung up
        try:
            while True:
                get = asyncio.ensure_future(q.get())
                done, _ = await asyncio.wait({get, gone}, return_when=asyncio.FIRST_COMPLETED)
                if gone in done:
                    get.cancel()
                    return
                writer.write(_line({"log": get.result()}))
                await writer.drain()
        finally:
            gone.cancel()
            self.service.unsubscribe_logs(q)
