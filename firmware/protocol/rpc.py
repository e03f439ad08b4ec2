# Offload RPC, sans-IO: request / response / stream over the session's EVENTS channel.
#
# Messages are CBOR maps whose key 0 is an RPC kind (16..22, a range the events channel
# reserves for RPC; other event messages use other kinds). Ids are chosen by the client and
# live as long as the call, across disconnects: the session delivers every message exactly
# once, so an answer sent while the link was down arrives after the reconnect, once.
#
#   REQ    {0:16, 1:id, 2:method, 3:args, 4:timeout_ms, 5:window}   client -> server
#   RES    {0:17, 1:id, 3:result}                                   server -> client
#   ERR    {0:18, 1:id, 2:code, 3:message}                          server -> client
#   CHUNK  {0:19, 1:id, 2:index, 3:data}                            server -> client
#   END    {0:20, 1:id, 2:chunk count}                              server -> client
#   CANCEL {0:21, 1:id}                                             client -> server
#   MORE   {0:22, 1:id, 2:n}  n more chunks may be sent (stream credit) client -> server
#
# window > 0 asks for a stream: the server sends at most `window` chunks beyond those the
# client has granted back with MORE, so a slow reader bounds what is buffered.
#
# This module: the wire constants, the typed errors, the calling side (RpcClient). The
# serving side is rpc_server.py; the scheduler-facing client offload.py.
from micropython import const

from firmware.runtime import clock as _clock

REQ = const(16)
RES = const(17)
ERR = const(18)
CHUNK = const(19)
END = const(20)
CANCEL = const(21)
MORE = const(22)

E_UNKNOWN_METHOD = const(1)
E_HANDLER = const(2)
E_TIMEOUT = const(3)
E_CANCELLED = const(4)
E_UNAVAILABLE = const(5)
E_BAD_REQUEST = const(6)

ID_MASK = const(0x3FFFFFFF)
MAX_WINDOW = const(64)


class RpcError(Exception):
    """Base of every RPC failure; .code is the wire code, str(e) the message."""
    code = 0


class UnknownMethod(RpcError):
    code = E_UNKNOWN_METHOD


class HandlerError(RpcError):
    code = E_HANDLER


class RpcTimeout(RpcError):
    code = E_TIMEOUT


class RpcCancelled(RpcError):
    code = E_CANCELLED


class RpcUnavailable(RpcError):
    code = E_UNAVAILABLE


class BadRequest(RpcError):
    code = E_BAD_REQUEST


_BY_CODE = (RpcError, UnknownMethod, HandlerError, RpcTimeout, RpcCancelled, RpcUnavailable,
            BadRequest)


def error_for(code, message):
    """The RpcError subclass for a wire code (RpcError itself for an unknown code)."""
    cls = _BY_CODE[code] if isinstance(code, int) and 0 < code < len(_BY_CODE) else RpcError
    e = cls(message)
    if cls is RpcError:
        e.code = code if isinstance(code, int) else 0
    return e


def kind_of(msg):
    """The RPC kind of an events-channel message, or 0 if it is not an RPC message."""
    if isinstance(msg, dict):
        k = msg.get(0)
        if isinstance(k, int) and REQ <= k <= MORE:
            return k
    return 0


def is_reply(kind):
    return RES <= kind <= END


def _valid_id(i):
    return isinstance(i, int) and not isinstance(i, bool) and 0 <= i <= ID_MASK


# ---- client ------------------------------------------------------------------------------
PENDING = const(0)
DONE = const(1)


class Call:
    """One request in flight. A unary call ends with a result or an error; a stream
    call delivers chunks (take() them) and then ends."""

    def __init__(self, cid, method, stream, window, deadline):
        self.id = cid
        self.method = method
        self.stream = stream
        self.window = window
        self.deadline = deadline
        self.state = PENDING
        self.result = None
        self.error = None
        self.chunks = [] if stream else None  # received, not yet taken (<= window)
        self.next_index = 0
        self.taken = 0  # chunks taken since the last MORE
        self.ended = False  # END received (stream): done once the chunks are taken
        self.notify = None  # called after any change (a scheduler wrapper sets its Event)

    def done(self):
        return self.state == DONE

    def outcome(self):
        """The result, or raise the call's RpcError."""
        if self.error is not None:
            raise self.error
        return self.result


class RpcClient:
    """The calling side. send(obj) -> bool queues a message on the events channel (the
    session's send); handle(msg) takes the replies; poll() expires calls past their
    deadline (timeout_ms plus grace_ms for the server's own timeout error to arrive)."""

    def __init__(self, send, clock=None, max_pending=8, grace_ms=1000, first_id=1):
        c = clock if clock is not None else _clock.active()
        self._ms = c.ticks_ms
        self._tdiff = c.ticks_diff
        self._tadd = c.ticks_add
        self._send = send
        self.max_pending = max_pending
        self.grace_ms = grace_ms
        self._next_id = first_id & ID_MASK
        self.calls = {}
        self._outq = []  # CANCEL / MORE messages the session had no room for
        self.late = 0  # replies for calls already finished (timed out / cancelled)
        self.bad = 0  # malformed replies

    def request(self, method, args=None, timeout_ms=5000, window=0):
        """Send a request; returns its Call. window > 0 asks for a stream. Raises
        RpcUnavailable when too many calls are pending or the link's outbox is full."""
        if not isinstance(method, str):
            raise BadRequest("method must be text")
        if timeout_ms <= 0:
            raise BadRequest("timeout_ms must be > 0")
        if not 0 <= window <= MAX_WINDOW:
            raise BadRequest("stream window must be 0..%d" % MAX_WINDOW)
        if len(self.calls) >= self.max_pending:
            raise RpcUnavailable("%d calls already pending" % self.max_pending)
        cid = self._next_id
        for _ in range(self.max_pending + 1):  # skip ids still in use after a wrap
            if cid not in self.calls and cid != 0:
                break
            cid = (cid + 1) & ID_MASK
        if not self._send({0: REQ, 1: cid, 2: method, 3: args, 4: timeout_ms, 5: window}):
            raise RpcUnavailable("link busy: the events outbox is full")
        self._next_id = (cid + 1) & ID_MASK
        deadline = self._tadd(self._ms(), timeout_ms + self.grace_ms)
        call = Call(cid, method, window > 0, window, deadline)
        self.calls[cid] = call
        return call

    def _finish(self, call, error, result=None):
        if call.state == DONE:
            return
        call.state = DONE
        call.error = error
        call.result = result
        self.calls.pop(call.id, None)
        self._tell(call)

    def _tell(self, call):
        n = call.notify
        if n is not None:
            n()

    def cancel(self, call, reason="cancelled by the caller"):
        """Stop a call: it ends with RpcCancelled and the server is told to stop."""
        if call.state == DONE:
            return False
        self._finish(call, RpcCancelled(reason))
        self._out({0: CANCEL, 1: call.id})
        return True

    def _out(self, msg):
        self.flush()
        if self._outq or not self._send(msg):
            if len(self._outq) < 2 * self.max_pending:
                self._outq.append(msg)

    def flush(self):
        """Send what waited for room in the outbox (call on the session's EV_ROOM)."""
        q = self._outq
        while q and self._send(q[0]):
            q.pop(0)

    def take(self, call):
        """The next chunk of a stream call, or None if none is there yet. After the last
        chunk of a finished stream, call.done() is True (and outcome() tells how)."""
        ch = call.chunks
        if not ch:
            return None
        data = ch.pop(0)
        if call.ended and not ch:
            self._finish(call, None)
        elif call.state != DONE:
            call.taken += 1
            if call.taken >= (call.window + 1) // 2:
                self._out({0: MORE, 1: call.id, 2: call.taken})
                call.taken = 0
        return data

    def handle(self, msg):
        """Take a reply from the events channel. Returns False if msg is not an RPC reply
        (the caller routes it elsewhere)."""
        k = kind_of(msg)
        if not is_reply(k):
            return False
        cid = msg.get(1)
        call = self.calls.get(cid) if _valid_id(cid) else None
        if call is None:
            self.late += 1
            return True
        if k == RES:
            if call.stream:
                self._finish(call, BadRequest("server answered a stream with one result"))
            else:
                self._finish(call, None, msg.get(3))
        elif k == ERR:
            self._finish(call, error_for(msg.get(2), str(msg.get(3))))
        elif not call.stream:
            self._finish(call, BadRequest("server streamed to a unary call"))
        elif k == CHUNK:
            if msg.get(2) != call.next_index or len(call.chunks) >= call.window:
                self.bad += 1
                self._finish(call, BadRequest("stream chunk %r out of order or over the "
                                              "window" % (msg.get(2),)))
                self._out({0: CANCEL, 1: cid})
                return True
            call.next_index += 1
            call.chunks.append(msg.get(3))
            self._tell(call)
        else:  # END
            call.ended = True
            if not call.chunks:
                self._finish(call, None)
            else:
                self._tell(call)
        return True

    def left_ms(self, call):
        """ms until the call's deadline (0 if past)."""
        d = self._tdiff(call.deadline, self._ms())
        return d if d > 0 else 0

    def poll(self):
        """Expire calls past their deadline; returns ms to the next deadline, -1 if none."""
        self.flush()
        now = self._ms()
        best = -1
        expired = None
        for call in self.calls.values():
            d = self._tdiff(call.deadline, now)
            if d <= 0:
                if expired is None:
                    expired = []
                expired.append(call)
            elif best < 0 or d < best:
                best = d
        if expired:
            for call in expired:
                self._finish(call, RpcTimeout("%s: no answer within its timeout" %
                                              call.method))
                self._out({0: CANCEL, 1: call.id})
        return best

    def fail_all(self, error):
        """End every pending call with error (e.g. the peer restarted: its answers are gone)."""
        for call in list(self.calls.values()):
            self._finish(call, error)
