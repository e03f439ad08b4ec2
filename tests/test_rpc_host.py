"""Offload RPC end to end in one virtual-time asyncio loop: the glasses' Offload client in
a firmware scheduler task (its session fed by a link task, as on the glasses), the host's
RpcHost registry with real async handlers (its session run by the SessionDriver). The
in-memory transport between them stands in for BLE (tests of the real radio are the BLE
branch's)."""
import asyncio
import collections

import pytest

from firmware.protocol import rpc as R
from firmware.protocol.channels import EVENTS
from firmware.protocol.offload import Offload
from firmware.protocol.session import EV_ROOM, Session
from firmware.runtime import sched as S
from firmware.runtime.sync import Flag
from host_tools.phone.rpc import RpcHost
from host_tools.phone.driver import SessionDriver
from sim.kernel import FirmwareDriver, new_loop


class Rig:
    def __init__(self, seed=5):
        self.loop, self.clock = new_loop(True, seed)
        self.sched = S.Scheduler(clock=self.clock)
        self.fw = FirmwareDriver(self.sched)
        self.rx = Flag(self.sched)
        self.to_glasses = collections.deque()
        self.up = False
        self.cancelled_handlers = []

    async def start(self):
        loop = self.loop
        self.hdrv = SessionDriver(self._host_write)
        self.host = RpcHost(lambda m: self.hdrv.send(EVENTS, m))
        self.hs = Session("host", self.clock, "host-1.0", ["rpc"], self.hdrv.send_frame,
                          self._host_msg, self._host_event, session_id=22)
        self.hdrv.attach(self.hs)
        self.off = Offload(lambda m: self.gs.send(EVENTS, m), self.clock)
        self.gs = Session("glasses", self.clock, "fw-1.0", ["rpc"], self._glasses_write,
                          lambda ch, m: ch == EVENTS and self.off.handle(m),
                          lambda k, d: self.off.room() if k == EV_ROOM else None,
                          session_id=11)
        self.sched.spawn(self._link, name="link", prio=S.PRIO_LINK)
        self.fw_task = loop.create_task(self.fw.run())

    # transport: glasses -> host through the loop; host -> glasses through the IRQ flag
    def _glasses_write(self, frame):
        if not self.up:
            return False
        data = bytes(frame)
        self.loop.call_soon(lambda: self.up and self.hdrv.feed(data))
        return True

    async def _host_write(self, frame):
        await asyncio.sleep(0.0075)  # half a 15 ms connection interval
        if self.up:
            self.to_glasses.append(frame)
            self.rx.set()
            self.fw.kick()

    def _host_msg(self, ch, m):
        if ch == EVENTS and self.host.handle(m):
            return True
        return None

    def _host_event(self, kind, detail):
        if kind == EV_ROOM:
            self.host.room()

    async def _link(self):  # the glasses' link task
        while True:
            while self.to_glasses:
                self.gs.feed(self.to_glasses.popleft())
            ms = self.gs.poll()
            await self.rx.wait(ms if ms > 0 else (1 if ms == 0 else -1))

    def connect(self):
        self.up = True
        self.gs.link_up(247)
        self.fw.kick()
        self.hdrv.link_up(247)

    def disconnect(self):
        self.up = False
        self.to_glasses.clear()
        self.gs.link_down()
        self.hdrv.link_down()
        self.fw.kick()

    def run(self, app, host_side=None):
        """Run the firmware task app() to its end; host_side() runs alongside in asyncio."""
        out = {}

        async def main():
            await self.start()
            self.connect()
            t = self.sched.spawn(app, prio=S.PRIO_SENSOR)
            if host_side is not None:
                self.loop.create_task(host_side())
            while not t.done():
                await asyncio.sleep(0.05)
            out["task"] = t
            self.fw.stop()
            await self.fw_task
            self.hdrv.close()

        self.loop.run_until_complete(main())
        self.loop.close()
        t = out["task"]
        assert t.error is None, t.error
        return t.result


def test_call_stream_and_typed_errors_between_firmware_and_host():
    rig = Rig()
    host_seen = []

    async def asr(args):
        await asyncio.sleep(0.2)
        return "lights on" if args == b"pcm" else "?"

    async def tts(args):
        for i in range(5):
            await asyncio.sleep(0.01)
            yield {"i": i, "pcm": bytes([i]) * 100}

    def boom(args):
        raise ValueError("no such intent: %s" % args)

    async def busy(args):
        raise R.RpcUnavailable("model is loading")

    async def forever(args):
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            host_seen.append("forever cancelled")
            raise

    async def slow(args):
        await asyncio.sleep(10)

    handlers = {"asr": asr, "tts": tts, "boom": boom, "busy": busy, "forever": forever,
                "slow": slow, "echo": lambda a: a}
    off_calls = []

    async def app():
        for name, fn in handlers.items():
            rig.host.register(name, fn)
        off = rig.off
        off_calls.append(await off.call("asr", b"pcm", timeout_ms=2000))
        off_calls.append(await off.call("echo", [1, {"a": 2}], timeout_ms=2000))
        r = off.stream("tts", "hello", timeout_ms=5000, window=2)
        chunks = []
        while True:
            c = await r.read()
            if c is None:
                break
            chunks.append(c["i"])
            await S.sleep_ms(40)  # slower than the host produces: credit holds it back
        off_calls.append(chunks)
        off_calls.append(await off.call("tts", "x", timeout_ms=5000))  # unary: a list
        for method, err in (("boom", R.HandlerError), ("busy", R.RpcUnavailable),
                            ("nope", R.UnknownMethod)):
            try:
                await off.call(method, "arg", timeout_ms=2000)
            except err as e:
                off_calls.append((method, type(e).__name__, str(e)))
        t0 = rig.clock.elapsed_ms()
        try:
            await off.call("slow", None, timeout_ms=500)
        except R.RpcTimeout as e:
            # the host's own timeout, well before the glasses' grace period ran out
            off_calls.append(("slow", str(e), rig.clock.elapsed_ms() - t0 < 1000))

        async def victim():
            await off.call("forever", None, timeout_ms=60000)

        v = S.current().sched.spawn(victim, prio=S.PRIO_SENSOR)
        await S.sleep_ms(100)
        v.cancel()
        await S.sleep_ms(200)
        return off_calls

    res = rig.run(app)
    assert res[0] == "lights on"
    assert res[1] == [1, {"a": 2}]
    assert res[2] == [0, 1, 2, 3, 4]
    assert [c["i"] for c in res[3]] == [0, 1, 2, 3, 4]
    assert res[4] == ("boom", "HandlerError", "ValueError: no such intent: arg")
    assert res[5] == ("busy", "RpcUnavailable", "model is loading")
    assert res[6][:2] == ("nope", "UnknownMethod") and "registered: asr, boom" in res[6][2]
    assert res[7] == ("slow", "slow ran over its 500 ms", True)
    assert host_seen == ["forever cancelled"]
    assert rig.host.cancelled == 1 and rig.host.timed_out == 1
    assert rig.host.server.jobs == {} and rig.off.core.calls == {}


def test_answer_given_while_disconnected_arrives_once_after_reconnect():
    rig = Rig(seed=8)
    runs = []

    async def asr(args):
        runs.append(args)
        await asyncio.sleep(0.3)
        return "answer %s" % args

    async def app():
        rig.host.register("asr", asr)
        return await rig.off.call("asr", 1, timeout_ms=10000)

    async def host_side():  # the link drops while the host works, and comes back later
        await asyncio.sleep(0.1)
        rig.disconnect()
        await asyncio.sleep(2.0)
        rig.connect()

    assert rig.run(app, host_side) == "answer 1"
    assert runs == [1]  # the request ran once
    assert rig.off.core.late == 0
    assert rig.gs.stats()["duplicates"] == 0 and rig.hs.stats()["duplicates"] == 0
    assert rig.hs.stats()["connects"] == 2


def test_register_rejects_bad_names_and_handlers():
    host = RpcHost(lambda m: True)
    with pytest.raises(ValueError):
        host.register("", lambda a: a)
    with pytest.raises(TypeError):
        host.register("asr", "not callable")
    host.register("asr", lambda a: a)
    host.unregister("asr")
    assert host.handlers == {}


def test_host_close_and_glasses_restart_stop_running_handlers():
    rig = Rig(seed=9)
    stopped = []

    async def long(args):
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            stopped.append(args)
            raise

    async def app():
        rig.host.register("long", long)
        try:
            await rig.off.call("long", "a", timeout_ms=60000)
        except R.RpcCancelled as e:
            first = str(e)
        call = rig.off.core.request("long", "b", 60000)
        await S.sleep_ms(300)
        rig.host.peer_reset()  # as if the glasses had rebooted: nobody is told
        await S.sleep_ms(300)
        return first, call.done()

    async def host_side():
        await asyncio.sleep(0.3)
        rig.host.close("host going down for an update")

    first, answered = rig.run(app, host_side)
    assert first == "host going down for an update"
    assert stopped == ["a", "b"] and answered is False
    assert rig.host.server.jobs == {}


def test_session_driver_counts_transport_write_errors():
    loop, clock = new_loop(True, 4)

    async def main():
        async def bad_write(frame):
            raise OSError("radio gone")

        drv = SessionDriver(bad_write)
        s = Session("host", clock, "h", [], drv.send_frame, lambda c, m: None,
                    lambda k, d: None, session_id=1)
        drv.attach(s)
        drv.link_up(247)  # the hello cannot be written
        await asyncio.sleep(0.1)
        drv.close()
        return drv.write_errors, s.stats()["frames_out"]

    errors, frames = loop.run_until_complete(main())
    loop.close()
    assert errors == 1 and frames == 1
