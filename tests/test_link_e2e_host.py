"""The host's role over the real stack (sim/sim_host.py on sim/linked.py, virtual time):
the plugins of HOST_PLUGINS attached to each Phone serve the glasses' offload jobs; one
absent or broken plugin does not stop the others; the host keeps the link through drops;
log followers share one stream."""
import asyncio
import sys
import types

import pytest

from firmware.protocol import rpc as R
from firmware.runtime import sched as S
from host_tools.phone import plugins
from sim.linked import Linked
from sim.sim_host import SimHost


def _module(name, attach=None, **attrs):
    mod = types.ModuleType(name)
    if attach is not None:
        mod.attach = attach
    for k, v in attrs.items():
        setattr(mod, k, v)
    return mod


@pytest.fixture
def fake_plugins(monkeypatch):
    def echo_attach(phone):
        phone.rpc.register("echo", lambda args: {"echo": args})
        return "echo ready"

    def broken_attach(phone):
        raise RuntimeError("model file missing")

    monkeypatch.setitem(sys.modules, "tests_echo_host", _module("tests_echo_host", echo_attach))
    monkeypatch.setitem(sys.modules, "tests_broken_host",
                        _module("tests_broken_host", broken_attach))
    monkeypatch.setitem(sys.modules, "tests_inert_host", _module("tests_inert_host"))
    return [("echo", "tests_echo_host"), ("broken", "tests_broken_host"),
            ("inert", "tests_inert_host"), ("absent", "tests_no_such_host_module")]


def test_plugin_states(fake_plugins):
    class P:
        rpc = types.SimpleNamespace(register=lambda name, fn: None)
    states = plugins.attach_all(P(), fake_plugins)
    assert states["echo"] == ("attached", "echo ready")
    assert states["broken"][0] == "failed" and "model file missing" in states["broken"][1]
    assert states["inert"][0] == "failed" and "no attach(phone)" in states["inert"][1]
    assert states["absent"] == ("absent", "tests_no_such_host_module is not in this build")
    assert [name for name, _m in plugins.HOST_PLUGINS] == ["voice", "notify", "ota", "camera",
                                                         "power"]


def test_the_host_serves_offload_jobs_through_drops(tmp_path, fake_plugins):
    rig = Linked(seed=9, flash_dir=str(tmp_path / "flash"), config_dir=str(tmp_path / "h"))
    answers = []

    async def scenario():
        await rig.start(phone=False)
        host = await SimHost(rig, plugin_list=fake_plugins).start()
        svc = host.service
        await svc.wait_open(30)
        states = {n: s for n, (s, _d) in svc.plugins.items()}
        offload = rig.glasses.app.link.offload

        async def ask(n):
            answers.append(await offload.call("echo", n, timeout_ms=5000))

        rig.glasses.sched.spawn(ask, 1, name="ask1", prio=S.PRIO_BACKGROUND)
        rig.glasses.driver.kick()
        while len(answers) < 1:
            await asyncio.sleep(0.05)
        first = svc.phone
        rig.world.radio.drop()
        while svc.phone.is_open():
            await asyncio.sleep(0.01)
        await svc.wait_open(30)
        rig.glasses.sched.spawn(ask, 2, name="ask2", prio=S.PRIO_BACKGROUND)
        rig.glasses.driver.kick()
        while len(answers) < 2:
            await asyncio.sleep(0.05)
        snap = svc.snapshot()
        await host.stop()
        return states, first is svc.phone, snap

    try:
        states, same_phone, snap = rig.run(scenario())
    finally:
        rig.close()
    assert states == {"echo": "attached", "broken": "failed", "inert": "failed",
                      "absent": "absent"}
    assert answers == [{"echo": 1}, {"echo": 2}]
    assert same_phone and snap["connects"] == 2  # one phone, reconnected by itself
    assert snap["rpc"]["completed"] == 2 and snap["state"] == "open"


def test_a_job_running_when_the_phone_stops_is_cancelled_and_the_glasses_hear_of_it(tmp_path):
    rig = Linked(seed=3, flash_dir=str(tmp_path / "flash"), config_dir=str(tmp_path / "h"),
                 voice=False, notify=False)
    cancelled = []
    errors = []

    async def slow(args):
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(args)
            raise

    async def scenario():
        await rig.start()
        phone = rig.phone
        await phone.wait_open(30)
        phone.rpc.register("slow", slow)
        offload = rig.glasses.app.link.offload

        async def ask():
            try:
                await offload.call("slow", 7, timeout_ms=60000)
            except R.RpcError as e:
                errors.append(e)

        rig.glasses.sched.spawn(ask, name="ask", prio=S.PRIO_BACKGROUND)
        rig.glasses.driver.kick()
        while not phone.rpc.server.jobs:
            await asyncio.sleep(0.05)
        t0 = rig.loop.time()
        phone.stop()  # the phone hangs up and its run() ends: its jobs with it
        while not errors:
            await asyncio.sleep(0.05)
        return dict(phone.rpc.server.jobs), rig.loop.time() - t0

    try:
        jobs, waited = rig.run(scenario())
    finally:
        rig.close()
    assert cancelled == [7] and jobs == {}  # no handler left running on the phone
    # the glasses hear why before the link goes, not by waiting out the minute
    assert isinstance(errors[0], R.RpcCancelled) and "the phone stopped" in str(errors[0])
    assert waited < 1, waited


def test_log_followers_share_one_stream_without_repeats(tmp_path):
    rig = Linked(seed=4, flash_dir=str(tmp_path / "flash"), config_dir=str(tmp_path / "h"))

    async def scenario():
        await rig.start(phone=False)
        host = await SimHost(rig, plugin_list=[]).start()
        svc = host.service
        await svc.wait_open(30)
        log = rig.glasses.app.log
        a = svc.subscribe_logs(None)
        log.warn("first marker")
        await asyncio.sleep(1)
        b = svc.subscribe_logs(None)  # asks nothing new: gets the backlog
        log.warn("second marker")
        await asyncio.sleep(1)
        out = []
        for q in (a, b):
            texts = []
            while not q.empty():
                texts.append(q.get_nowait()["text"])
            out.append(texts)
        svc.unsubscribe_logs(a)
        svc.unsubscribe_logs(b)
        log.warn("third marker")
        await asyncio.sleep(1)
        after = list(svc.backlog)[-1]["text"]
        await host.stop()
        return out, after, rig.glasses.app.link.session.stats()

    try:
        (a, b), after, _st = rig.run(scenario())
    finally:
        rig.close()
    for texts in (a, b):
        assert len(texts) == len(set(texts)), texts  # nothing twice
        assert [t for t in texts if "marker" in t][-2:] == [
            [t for t in texts if "first marker" in t][0],
            [t for t in texts if "second marker" in t][0]]
    assert a == b  # the late follower got the same records, from the backlog
    assert "third marker" not in after  # nobody follows: the glasses stopped sending
