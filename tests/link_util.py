"""Helpers for the link's end-to-end tests: the rig (sim/linked.py: simulated glasses and
a host over the real bumble stack) in a real-time loop in its own thread, as `make sim`
runs in another terminal, so the `glasses` commands of the test reach it through the
control endpoint or over the TCP-exposed radio."""
import asyncio
import threading

from firmware.protocol import kinds
from sim.linked import Linked
from sim.mirror import bluetooth
from sim.sim_host import SimHost, serve_tcp


class RigThread:
    """Simulated glasses (real time) with, if host=True, their host (sim/sim_host.py:
    control endpoint in control_dir, radio on a free TCP port); else the glasses alone
    on the TCP-exposed radio (`make sim --no-host`)."""

    def __init__(self, tmp_path, host=True, control_dir=None, on_boot=None, seed=3):
        self.tmp = tmp_path
        self.host = host
        self.control_dir = control_dir or str(tmp_path / "cfg")
        self.on_boot = on_boot
        self.seed = seed
        self.sh = None
        self.port = None
        self.got = []  # EVENT messages the glasses received (topic, payload)
        self.ready = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            self.rig = Linked(seed=self.seed, virtual=False, flash_dir=str(self.tmp / "flash"),
                              config_dir=str(self.tmp / "simhost"), keep_log=True,
                              on_boot=self._booted)
            self.loop = self.rig.loop
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self._start())
        except BaseException as e:  # surfaced by __enter__
            self.error = e
            self.ready.set()
            return
        self.ready.set()
        self.loop.run_forever()

    def _booted(self, g):
        if g.app.link is not None:
            g.app.link.route(kinds.EVENT, lambda m: self.got.append((m.get(1), m.get(2))))
        if self.on_boot is not None:
            self.on_boot(g)

    async def _start(self):
        await self.rig.start(phone=False)
        if self.host:
            self.sh = await SimHost(self.rig).start(control_dir=self.control_dir, tcp_port=0)
            self.port = self.sh.tcp[1]
        else:
            _, self.port = await serve_tcp(self.rig.world.radio, 0, lambda text: None)

    @property
    def name(self):
        """The glasses' advertised name (from the simulated chip's unique id)."""
        return self.call(lambda: self.rig.glasses.app.gatt.name)

    @property
    def radio_spec(self):
        return "virtual:127.0.0.1:%d" % self.port

    def call(self, fn, timeout_s=10):
        """fn() in the rig's loop; its result."""
        async def go():
            return fn()
        return asyncio.run_coroutine_threadsafe(go(), self.loop).result(timeout_s)

    def wait_open(self, timeout_s=20):
        """Until the host's link is open."""
        async def go():
            await self.sh.service.wait_open(timeout_s)
        asyncio.run_coroutine_threadsafe(go(), self.loop).result(timeout_s + 5)

    def __enter__(self):
        self.thread.start()
        assert self.ready.wait(30), "the rig did not start"
        if self.error is not None:
            raise self.error
        return self

    def __exit__(self, *exc):
        async def stop():
            if self.sh is not None:
                await self.sh.stop()
            await self.rig.stop()
            if self.rig.world.radio is not None:
                await self.rig.world.radio.close()
        try:
            asyncio.run_coroutine_threadsafe(stop(), self.loop).result(20)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(20)
            self.rig.close()
            bluetooth.detach()
