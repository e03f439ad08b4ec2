# Offload RPC, the serving side's protocol state (sans-IO). The wire format and the errors
# are in rpc.py; the host's registry of handlers (host_tools/phone/rpc.py) runs on this.
from firmware.protocol.rpc import (CANCEL, CHUNK, E_BAD_REQUEST, E_CANCELLED, E_HANDLER,
                               E_UNAVAILABLE, END, ERR, MAX_WINDOW, MORE, REQ, RES, _valid_id,
                               kind_of)
class Job:
    """A request being served."""

    def __init__(self, jid, method, args, timeout_ms, window):
        self.id = jid
        self.method = method
        self.args = args
        self.timeout_ms = timeout_ms
        self.window = window
        self.credit = window  # chunks that may be sent now
        self.index = 0
        self.cancelled = False
        self.task = None  # the serving side's handle (e.g. an asyncio task)


class RpcServer:
    """The serving side's protocol state, sans-IO. handle(msg) takes requests, cancels and
    stream credit, calling on_request(job), on_cancel(job) and on_credit(job); the caller
    answers through reply / fail / chunk / end, each returning False when the session's
    outbox has no room (try again after the session's EV_ROOM)."""

    def __init__(self, send, on_request, on_cancel=None, on_credit=None, max_running=8):
        self._send = send
        self.on_request = on_request
        self.on_cancel = on_cancel
        self.on_credit = on_credit
        self.max_running = max_running
        self.jobs = {}
        self.bad = 0
        self.refused = []  # (id, code, message) errors waiting for room in the outbox

    def handle(self, msg):
        k = kind_of(msg)
        if k != REQ and k != CANCEL and k != MORE:
            return False
        jid = msg.get(1)
        if not _valid_id(jid):
            self.bad += 1
            return True
        if k == CANCEL:
            job = self.jobs.pop(jid, None)
            if job is not None:
                job.cancelled = True
                if self.on_cancel is not None:
                    self.on_cancel(job)
            return True
        if k == MORE:
            job = self.jobs.get(jid)
            n = msg.get(2)
            if job is not None and isinstance(n, int) and 0 < n <= MAX_WINDOW:
                job.credit += n
                if job.credit > job.window:
                    job.credit = job.window
                if self.on_credit is not None:
                    self.on_credit(job)
            return True
        method = msg.get(2)
        timeout_ms = msg.get(4)
        window = msg.get(5)
        if (not isinstance(method, str) or not isinstance(timeout_ms, int) or
                timeout_ms <= 0 or not isinstance(window, int) or
                not 0 <= window <= MAX_WINDOW):
            self._error(jid, E_BAD_REQUEST, "malformed request")
        elif jid in self.jobs:  # an answer would end the running call: count it only
            self.bad += 1
        elif len(self.jobs) >= self.max_running:
            self._error(jid, E_UNAVAILABLE, "busy: %d requests running" % self.max_running)
        else:
            job = Job(jid, method, msg.get(3), timeout_ms, window)
            self.jobs[jid] = job
            self.on_request(job)
        return True

    def _error(self, jid, code, message):
        if not self._send({0: ERR, 1: jid, 2: code, 3: message}):
            if len(self.refused) < 2 * self.max_running:
                self.refused.append((jid, code, message))

    def flush(self):
        q = self.refused
        while q:
            jid, code, message = q[0]
            if not self._send({0: ERR, 1: jid, 2: code, 3: message}):
                return False
            q.pop(0)
        return True

    def _last(self, job, msg):
        if self.jobs.get(job.id) is not job:
            return True  # cancelled meanwhile: the client no longer listens
        if not self._send(msg):
            return False
        del self.jobs[job.id]
        return True

    def reject(self, job, error):
        """End a job at once with error (e.g. no such method); if the outbox is full the
        error waits for flush()."""
        if self.jobs.get(job.id) is job:
            del self.jobs[job.id]
            self._error(job.id, getattr(error, "code", E_HANDLER) or E_HANDLER, str(error))

    def reply(self, job, result):
        if job.window:
            return self.end(job)
        return self._last(job, {0: RES, 1: job.id, 3: result})

    def fail(self, job, error):
        code = getattr(error, "code", E_HANDLER) or E_HANDLER
        return self._last(job, {0: ERR, 1: job.id, 2: code, 3: str(error)})

    def end(self, job):
        return self._last(job, {0: END, 1: job.id, 2: job.index})

    def chunk(self, job, data):
        """Send one chunk; False if the stream has no credit or the outbox no room."""
        if self.jobs.get(job.id) is not job:
            return True
        if job.credit <= 0:
            return False
        if not self._send({0: CHUNK, 1: job.id, 2: job.index, 3: data}):
            return False
        job.index += 1
        job.credit -= 1
        return True

    def cancel_all(self, reason="the server is shutting down", notify_client=True):
        """Stop every job (on_cancel is called for each); with notify_client, each client
        gets RpcCancelled(reason)."""
        for job in list(self.jobs.values()):
            del self.jobs[job.id]
            job.cancelled = True
            if notify_client:
                self._error(job.id, E_CANCELLED, reason)
            if self.on_cancel is not None:
                self.on_cancel(job)
