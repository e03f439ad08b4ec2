"""The control endpoint's protocol and its errors (host_tools/phone/control.py), with a service
that answers from a table: what a client sees for good and bad requests, a stale socket,
a second host, no host. The endpoint over the real link: tests/test_link_e2e_cli.py."""
import asyncio
import json
import os

import pytest

from host_tools.phone import control
from host_tools import errors as exits


class Service:
    def __init__(self):
        self.queues = []

    def hello(self):
        return {"pid": os.getpid(), "state": "open"}

    async def status(self, timeout_s):
        return {"battery": 80, "timeout_s": timeout_s}

    async def connect(self, timeout_s):
        raise exits.GlassesError("link_timeout", "the link to the glasses is not open")

    async def notify(self, fields, timeout_s):
        raise RuntimeError("plugin crashed")

    async def forget(self, timeout_s, every=False):
        return True, "bonds forgotten", True

    def subscribe_logs(self, level):
        q = asyncio.Queue()
        for i in range(3):
            q.put_nowait({"seq": i, "text": "record %d" % i, "level": level})
        self.queues.append(q)
        return q

    def unsubscribe_logs(self, q):
        self.queues.remove(q)


def _run(body, tmp_path):
    async def main():
        server = control.ControlServer(Service(), str(tmp_path))
        await server.start()
        try:
            return await body(server)
        finally:
            await server.close()
    return asyncio.run(main())


async def _raw(path, data):
    reader, writer = await asyncio.open_unix_connection(path, limit=control.MAX_LINE)
    writer.write(data)
    await writer.drain()
    line = await reader.readline()
    writer.close()
    return json.loads(line)


def test_requests_and_their_answers(tmp_path):
    async def body(server):
        p = server.path
        assert oct(os.stat(p).st_mode & 0o777) == "0o600"
        hello = await control.find(str(tmp_path))
        st = await control.request(p, "status", timeout_s=3)
        forget = await control.request(p, "forget")
        with pytest.raises(exits.GlassesError) as e1:
            await control.request(p, "connect")
        with pytest.raises(exits.GlassesError) as e2:
            await control.request(p, "notify", fields={"title": "x"})
        logs = []
        async for item in control.stream(p, "logs", level=30):
            logs.append(item["log"])
            if len(logs) == 3:
                break
        for _ in range(50):  # the host notices the follower left
            if not server.service.queues:
                break
            await asyncio.sleep(0.01)
        return hello, st, forget, e1.value, e2.value, logs, server.service.queues

    hello, st, forget, e1, e2, logs, queues = _run(body, tmp_path)
    assert hello["pid"] == os.getpid()
    assert st == {"battery": 80, "timeout_s": 3}
    assert forget == {"ok": True, "detail": "bonds forgotten", "host_keys_removed": True}
    assert e1.kind == "link_timeout" and e1.exit_code == exits.LINK_TIMEOUT
    assert e2.kind == "failed" and "RuntimeError: plugin crashed" in e2.message
    assert [r["text"] for r in logs] == ["record 0", "record 1", "record 2"]
    assert logs[0]["level"] == 30 and queues == []


@pytest.mark.parametrize("data, needle", [
    (b"not json\n", "not a JSON line"),
    (b'{"op": "reboot"}\n', "unknown request"),
    (b'["status"]\n', "unknown request"),
    (b'{"op": "status", "timeout_s": "soon"}\n', "timeout_s must be a number"),
    (b'{"op": "status", "timeout_s": -1}\n', "timeout_s must be a number"),
    (b'{"op": "notify", "fields": 3}\n', "notify needs 'fields'"),
    (b"\xff\xfe\n", "not a JSON line"),
    (b"x" * (control.MAX_LINE + 10), "request longer than"),
    (b'{"op": "world", "event": "tap"}\n', "this host has no simulated world"),
])
def test_bad_requests_get_a_clear_answer_and_the_host_goes_on(tmp_path, data, needle):
    async def body(server):
        bad = await _raw(server.path, data)
        good = await control.request(server.path, "status")
        return bad, good, server.errors

    bad, good, errors = _run(body, tmp_path)
    assert bad["ok"] is False and bad["kind"] == "bad_request" and needle in bad["error"]
    assert good["battery"] == 80 and errors == 1


def test_a_second_host_leaves_a_live_endpoint_alone_and_replaces_a_stale_one(tmp_path):
    async def main():
        first = control.ControlServer(Service(), str(tmp_path))
        await first.start()
        second = control.ControlServer(Service(), str(tmp_path))
        with pytest.raises(exits.EndpointBusy) as busy:
            await second.start()
        await first.close()
        assert not os.path.exists(first.path)
        open(first.path, "w").close()  # what a host that died leaves behind
        assert await control.find(str(tmp_path)) is None
        await second.start()
        hello = await control.find(str(tmp_path))
        await second.close()
        return str(busy.value), hello

    busy, hello = asyncio.run(main())
    assert "another host (pid %d) already serves" % os.getpid() in busy
    assert hello["state"] == "open"


def test_no_host_running(tmp_path):
    async def main():
        assert await control.find(str(tmp_path)) is None
        with pytest.raises(exits.GlassesError) as e:
            await control.request(control.socket_path(str(tmp_path)), "status")
        return e.value

    e = asyncio.run(main())
    assert e.kind == "failed" and "no host is running" in e.message


def test_logs_are_a_tail_the_last_n_of_the_backlog_then_follow():
    """`glasses logs` prints what the glasses hold (-n: its last N) and returns; with
    --follow it goes on with the new records (host_tools/cli/logs.py tail)."""
    import asyncio

    from host_tools.cli.logs import tail

    class Link:
        def __init__(self):
            self.seq = 100  # the glasses' next record: 95..99 are the backlog

        async def status(self, timeout_s):
            return {"log_seq": self.seq}

        async def logs(self, level):
            for s in range(95, 100):
                yield {"seq": s, "text": "old %d" % s}
            for s in range(100, 103):
                await asyncio.sleep(0.1)
                yield {"seq": s, "text": "new %d" % s}

    async def go(lines, follow):
        out = []
        await tail(Link(), 20, lines, follow, out.append)
        return out

    assert asyncio.run(go(0, False)) == ["old %d" % s for s in range(95, 100)]
    assert asyncio.run(go(2, False)) == ["old 98", "old 99"]  # not the first two
    assert asyncio.run(go(2, True)) == ["old 98", "old 99", "new 100", "new 101", "new 102"]
