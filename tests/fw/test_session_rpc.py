# Offload RPC over two link sessions: the sans-IO client and server cores, and the
# scheduler-facing Offload client. Runs under CPython and MicroPython.
from fwtest import raises

from linkpipe import Pipe
from firmware.protocol import rpc as R
from firmware.protocol import rpc_server as RS
from firmware.protocol.channels import EVENTS
from firmware.protocol.offload import Offload
from firmware.runtime import sched as S
from firmware.runtime.sched import Scheduler

FILE_HEAP_BUDGET = 144 * 1024  # imports included: two sessions and both RPC ends


class Host:
    """A serving side for the tests: the RpcServer core; jobs are answered by the test."""

    def __init__(self, p, max_running=8):
        self.jobs = []
        self.cancelled = []
        self.credited = []
        self.server = RS.RpcServer(lambda m: p.s[1].send(EVENTS, m), self.jobs.append,
                                  self.cancelled.append, self.credited.append, max_running)
        p.sides[1].route = lambda ch, m: ch == EVENTS and self.server.handle(m)


def _rig(max_running=8, **client_kw):
    p = Pipe()
    p.connect()
    p.run(5)
    client = R.RpcClient(lambda m: p.s[0].send(EVENTS, m), p.clock, **client_kw)
    p.sides[0].route = lambda ch, m: ch == EVENTS and client.handle(m)
    return p, client, Host(p, max_running)


def test_request_and_response():
    p, c, h = _rig()
    call = c.request("echo", [1, "two"], timeout_ms=1000)
    p.run(20)
    assert len(h.jobs) == 1 and h.jobs[0].method == "echo" and h.jobs[0].args == [1, "two"]
    assert not call.done()
    assert h.server.reply(h.jobs[0], {"ok": [1, "two"]})
    p.run(20)
    assert call.done() and call.outcome() == {"ok": [1, "two"]}
    assert c.calls == {} and h.server.jobs == {}
    assert p.sides[0].got == []  # nothing leaked to the app


def test_errors_come_back_typed():
    p, c, h = _rig()
    calls = [c.request(m, None, 1000) for m in ("nope", "boom", "slow", "gone", "odd")]
    p.run(20)
    j = h.jobs
    h.server.fail(j[0], R.UnknownMethod("no handler for 'nope'"))
    h.server.fail(j[1], R.HandlerError("ValueError: bad input"))
    h.server.fail(j[2], R.RpcTimeout("slow ran over 1000 ms"))
    h.server.fail(j[3], R.RpcUnavailable("model not loaded"))
    h.server._last(j[4], {0: R.ERR, 1: j[4].id, 2: 99, 3: "from the future"})
    p.run(20)
    kinds = (R.UnknownMethod, R.HandlerError, R.RpcTimeout, R.RpcUnavailable, R.RpcError)
    for call, kind in zip(calls, kinds):
        e = raises(kind, call.outcome)
        assert isinstance(e, R.RpcError)
    assert "bad input" in str(raises(R.HandlerError, calls[1].outcome))
    assert raises(R.RpcError, calls[4].outcome).code == 99


def test_stream_respects_its_window():
    p, c, h = _rig()
    call = c.request("tts", {"text": "hi"}, timeout_ms=5000, window=4)
    p.run(20)
    job = h.jobs[0]
    sent = 0
    while h.server.chunk(job, b"pcm%d" % sent):
        sent += 1
    assert sent == 4  # the window
    p.run(20)
    got = [c.take(call), c.take(call)]
    assert got == [b"pcm0", b"pcm1"]
    p.run(20)
    assert h.credited == [job] and job.credit == 2
    while h.server.chunk(job, b"pcm%d" % sent):
        sent += 1
    assert sent == 6
    assert h.server.end(job)
    p.run(20)
    rest = []
    while True:
        x = c.take(call)
        if x is None:
            break
        rest.append(x)
    assert rest == [b"pcm2", b"pcm3", b"pcm4", b"pcm5"]
    assert call.done() and call.outcome() is None


def test_request_and_answer_survive_disconnects_exactly_once():
    p, c, h = _rig()
    call = c.request("assist", "what time is it", timeout_ms=60000)
    p.disconnect()  # the request is lost in the transport
    p.run(500)
    p.connect()
    p.run(50)
    assert len(h.jobs) == 1  # resent once the link was back
    job = h.jobs[0]
    assert h.server.reply(job, "ten past two")
    p.disconnect()  # the answer is lost in the transport
    p.connect()
    p.run(50)
    assert call.done() and call.outcome() == "ten past two"
    p.disconnect()
    assert h.server.reply(job, "again") is True  # already answered: nothing goes out
    call2 = c.request("assist", "and now", timeout_ms=60000)
    p.run(500)
    p.connect()
    p.run(50)
    assert len(h.jobs) == 2 and h.jobs[1].id != job.id
    h.server.reply(h.jobs[1], "later")
    p.disconnect()  # answered while the link is down: it waits in the host's outbox
    p.connect()
    p.run(50)
    assert call2.outcome() == "later"
    assert c.late == 0 and h.server.bad == 0
    assert p.s[0].stats()["duplicates"] == 0 and p.s[1].stats()["duplicates"] == 0


def test_client_timeout_cancels_the_job_on_the_server():
    p, c, h = _rig(grace_ms=500)
    call = c.request("asr", b"audio", timeout_ms=1000)
    p.run(20)
    p.disconnect()
    p.run(1400)
    assert c.poll() > 0 and not call.done()
    p.run(100)
    c.poll()
    e = raises(R.RpcTimeout, call.outcome)
    assert "asr" in str(e)
    p.connect()
    p.run(50)
    assert h.cancelled == h.jobs  # the CANCEL went once the link was back
    assert h.server.reply(h.jobs[0], "too late")  # dropped: the job was cancelled
    p.run(50)
    assert c.late == 0 and p.sides[0].got == []


def test_caller_cancel_and_server_cancel_all():
    p, c, h = _rig()
    a = c.request("asr", None, 5000)
    b = c.request("tts", None, 5000, window=2)
    p.run(20)
    assert c.cancel(a) and not c.cancel(a)
    assert "cancelled by the caller" in str(raises(R.RpcCancelled, a.outcome))
    p.run(20)
    assert h.cancelled == [h.jobs[0]]
    h.server.cancel_all("host shutting down")
    p.run(20)
    assert "host shutting down" in str(raises(R.RpcCancelled, b.outcome))
    assert h.cancelled == [h.jobs[0], h.jobs[1]] and h.server.jobs == {}
    assert c.late == 0  # the job cancelled by the caller got no second answer


def test_busy_malformed_and_duplicate_requests_are_refused():
    p, c, h = _rig(max_running=1, max_pending=3)
    a = c.request("one", None, 5000)
    b = c.request("two", None, 5000)
    p.run(20)
    assert "busy" in str(raises(R.RpcUnavailable, b.outcome))
    bad = [{0: R.REQ, 1: 77, 2: 5, 3: None, 4: 100, 5: 0},  # method not text
           {0: R.REQ, 1: 78, 2: "x", 3: None, 4: 0, 5: 0},  # no timeout
           {0: R.REQ, 1: a.id, 2: "one", 3: None, 4: 100, 5: 0}]  # id already running
    for m in bad:
        c._send(m)
    c._send({0: R.REQ, 1: "x"})  # no usable id: cannot even be answered
    p.run(20)
    assert h.server.bad == 2 and len(h.jobs) == 1  # no id; an id already running
    assert c.late == 2  # two ERRs for ids the client never issued
    h.server.reply(h.jobs[0], 1)
    p.run(20)
    assert a.outcome() == 1
    c.request("x", None, 5000)
    c.request("y", None, 5000)
    c.request("z", None, 5000)
    assert "pending" in str(raises(R.RpcUnavailable, c.request, "w", None, 5000))
    raises(R.BadRequest, c.request, 5)
    raises(R.BadRequest, c.request, "x", None, 0)
    raises(R.BadRequest, c.request, "x", None, 10, 999)


def test_request_refused_when_the_link_outbox_is_full():
    p, c, h = _rig(max_pending=32)
    p.disconnect()
    n = 0
    try:
        while True:
            c.request("fill", n, 5000)
            n += 1
    except R.RpcUnavailable as e:
        assert "outbox is full" in str(e)
    assert n == 16 and len(c.calls) == 16


def test_malformed_replies_are_counted_not_raised():
    p, c, h = _rig()
    call = c.request("tts", None, 5000, window=2)
    p.run(20)
    job = h.jobs[0]
    assert c.handle({0: R.RES, 1: "nope"}) and c.late == 1
    assert not c.handle({0: 3}) and not c.handle([1, 2])  # not RPC: routed elsewhere
    h.server._send({0: R.CHUNK, 1: job.id, 2: 5, 3: b"x"})  # out of order
    p.run(20)
    assert c.bad == 1 and "out of order" in str(raises(R.BadRequest, call.outcome))
    assert h.cancelled == [job]  # the client told the server to stop


# ---- the scheduler-facing client -----------------------------------------------------
def _sched_rig():
    p, c, h = _rig()
    off = Offload(lambda m: p.s[0].send(EVENTS, m), p.clock)
    p.sides[0].route = lambda ch, m: ch == EVENTS and off.handle(m)
    s = Scheduler(clock=p.clock)
    state = {"stop": False}

    async def link():
        while not state["stop"]:
            p.flush()
            a = p.s[0].poll()
            b = p.s[1].poll()
            p.flush()
            ms = 10
            if 0 <= a < ms:
                ms = a
            if 0 <= b < ms:
                ms = b
            await S.sleep_ms(ms if ms > 0 else 1)

    s.spawn(link, name="link", prio=S.PRIO_LINK)
    return p, off, h, s, state


def test_offload_call_awaits_the_answer_and_raises_typed_errors():
    p, off, h, s, state = _sched_rig()
    out = []

    def serve(job):
        if job.method == "asr":
            h.server.reply(job, "turn on the lights")
        else:
            h.server.fail(job, R.UnknownMethod("no handler for %r" % job.method))

    h.server.on_request = serve

    async def app():
        out.append(await off.call("asr", b"...", timeout_ms=2000))
        try:
            await off.call("weather", None, timeout_ms=2000)
        except R.UnknownMethod as e:
            out.append(str(e))
        state["stop"] = True

    t = s.spawn(app, prio=S.PRIO_SENSOR)
    s.run(until=t)
    assert out == ["turn on the lights", "no handler for 'weather'"], out


def test_offload_timeout_and_cancelling_the_waiting_task():
    p, off, h, s, state = _sched_rig()
    out = []

    async def app():
        try:
            await off.call("slow", None, timeout_ms=300)
        except R.RpcTimeout:
            out.append(("timeout", p.clock.elapsed_ms() >= 300 + 1000))

    async def victim():
        await off.call("forever", None, timeout_ms=60000)
        out.append("never")

    async def main():
        v = s.spawn(victim, prio=S.PRIO_SENSOR)
        a = s.spawn(app, prio=S.PRIO_SENSOR)
        await S.sleep_ms(100)
        v.cancel()
        await a.join()
        await S.sleep_ms(50)
        state["stop"] = True

    t = s.spawn(main, prio=S.PRIO_SENSOR)
    s.run(until=t)
    assert out == [("timeout", True)], out
    methods = [j.method for j in h.cancelled]
    assert sorted(methods) == ["forever", "slow"], methods
    assert off.core.calls == {}


def test_offload_stream_reader_reads_every_chunk_then_none():
    p, off, h, s, state = _sched_rig()
    out = []

    def on_request(job):
        job.left = 7
        pump(job)

    def pump(job):
        while job.left and h.server.chunk(job, job.left):
            job.left -= 1
        if not job.left:
            h.server.end(job)

    h.server.on_request = on_request
    h.server.on_credit = pump

    async def app():
        r = off.stream("tts", {"text": "hello"}, timeout_ms=5000, window=2)
        while True:
            x = await r.read()
            if x is None:
                break
            out.append(x)
            await S.sleep_ms(30)  # a slow reader
        state["stop"] = True

    t = s.spawn(app, prio=S.PRIO_SENSOR)
    s.run(until=t)
    assert out == [7, 6, 5, 4, 3, 2, 1], out


def test_offload_peer_reset_fails_pending_calls():
    p, off, h, s, state = _sched_rig()
    out = []

    async def app():
        try:
            await off.call("asr", None, timeout_ms=5000)
        except R.RpcUnavailable as e:
            out.append(str(e))
        state["stop"] = True

    async def reset_later():
        await S.sleep_ms(50)
        off.peer_reset()

    t = s.spawn(app, prio=S.PRIO_SENSOR)
    s.spawn(reset_later)
    s.run(until=t)
    assert out and "restarted" in out[0]


def test_a_reply_of_the_wrong_kind_ends_the_call_with_a_clear_error():
    p, c, h = _rig()
    unary = c.request("a", None, 5000)
    stream = c.request("b", None, 5000, window=2)
    p.run(20)
    ju, js = h.jobs
    assert not h.server.chunk(ju, b"x")  # the server's core refuses: a unary job has no window
    h.server._send({0: R.CHUNK, 1: ju.id, 2: 0, 3: b"x"})  # a server that does it anyway
    h.server._send({0: R.RES, 1: js.id, 3: 5})
    p.run(20)
    assert "streamed to a unary call" in str(raises(R.BadRequest, unary.outcome))
    assert "stream with one result" in str(raises(R.BadRequest, stream.outcome))
    e = R.error_for(None, "odd")
    assert type(e) is R.RpcError and e.code == 0 and str(e) == "odd"
