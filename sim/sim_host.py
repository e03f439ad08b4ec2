"""The host of `make sim`: the phone's role (host_tools/phone/service.py, plugins and
all) on the rig's radio (sim/linked.py), in the simulator's loop, and in real time what
lets other processes in: the radio's host controllers over TCP (`glasses host --radio
virtual`, `glasses scan --radio virtual`) and the control endpoint (`glasses status` from
a second terminal goes through this host).

    rig = Linked(board, seed=seed, virtual=False)
    await rig.start(phone=False)
    host = await SimHost(rig).start(control_dir=None, tcp_port=7101)
    ...
    await host.stop(); await rig.stop()
"""
import asyncio
import json
import os
import random

from host_tools.config import write_private


def seed_identity(config_dir, seed):
    """Give the simulated host a random static address and IRK drawn from the seed (its
    bumble adapter reads them from host.json), so a run repeats exactly from its seed."""
    rng = random.Random("host-%d" % seed)
    b = bytearray(rng.getrandbits(8) for _ in range(6))
    b[0] |= 0xC0
    path = os.path.join(config_dir, "host.json")
    if not os.path.exists(path):
        write_private(path, json.dumps({"address": ":".join("%02X" % x for x in b),
                                        "irk": bytes(rng.getrandbits(8)
                                                     for _ in range(16)).hex()}))


async def serve_tcp(radio, port, announce):
    """Serve the radio's host controllers on port (another free one if it is taken);
    returns (host, port)."""
    try:
        return await radio.serve_tcp(port=port, announce=announce)
    except OSError as e:
        if port == 0:
            raise
        announce("radio: port %d is taken (%s); serving on another" % (port, e.strerror))
        return await radio.serve_tcp(port=0, announce=announce)


class SimHost:
    def __init__(self, rig, announce=None, plugin_list=None):
        self.rig = rig
        self.world = rig.world
        self.announce = announce or (lambda text: self.world.note("host", text))
        self.plugin_list = plugin_list
        self.service = None
        self.server = None
        self.tcp = None  # (host, port) once served
        self.task = None
        self.error = None  # what ended the host (a GlassesError), if anything did
        self._rng = random.Random(rig.glasses.seed ^ 0x5EED)  # what a live event leaves open

    async def start(self, control_dir=False, tcp_port=None):
        """Start the host. control_dir: None serves the control endpoint in the user's
        config dir, a path serves it there, False not at all. tcp_port: serve the radio's
        host controllers on it (0: any free port; None: not at all). Real time only for
        both: another process cannot follow virtual time."""
        from host_tools.phone.service import HostService
        if (control_dir is not False or tcp_port is not None) and self.world.virtual:
            raise ValueError("the control endpoint and TCP controllers need real time")
        seed_identity(self.rig.config_dir, self.rig.glasses.seed)
        self.service = HostService(self.rig.make_phone, plugin_list=self.plugin_list,
                                   announce=lambda text: None)
        self.rig.phone = None
        self.world.phone_notify = self._notify  # the scenario's `notify` event
        self.task = self.world.loop.create_task(self._run())
        if tcp_port is not None:
            await self._serve_tcp(tcp_port)
        if control_dir is not False:
            await self._serve_control(control_dir)
        return self

    async def _run(self):
        from host_tools.errors import GlassesError
        try:
            await self.service.run()
        except GlassesError as e:
            self.error = e
            self.announce("stopped: %s" % e.message)

    async def _serve_tcp(self, port):
        self.tcp = await serve_tcp(self.world.radio, port, self.announce)
        self.announce("radio: while this host holds the link the glasses do not advertise; "
                      "other hosts find them after `glasses forget` (or with --no-host)")

    async def _serve_control(self, directory):
        from host_tools.errors import EndpointBusy
        from host_tools.phone.control import ControlServer
        server = ControlServer(self.service, directory, world=self.act)
        try:
            path = await server.start()
        except EndpointBusy as e:
            self.announce("control endpoint not served: %s" % e)
            return
        self.server = server
        self.announce("control endpoint %s: try `glasses status` in another terminal" % path)

    def _notify(self, fields):
        """A notification from this host's phone (a scenario's or `glasses world`'s)."""
        phone = self.phone
        if phone is None or not phone.is_open():
            self.world.note("scn", "notify: the phone is not linked now; not sent")
            return
        from host_tools.notify.host import send_notification

        async def send():
            try:
                r = await send_notification(phone, **fields)
                self.world.note("host", "notify %s: %s" % (r.id, r.outcome))
            except Exception as e:
                self.world.note("host", "notify failed: %s: %s" % (type(e).__name__, e))
        self.world.loop.create_task(send())

    def act(self, text):
        """One scenario event on the simulated glasses now (the control op "world")."""
        from sim import scenario
        return scenario.act_now(self.rig.glasses, text, self._rng)

    @property
    def phone(self):
        return self.service.phone if self.service is not None else None

    async def stop(self):
        if self.server is not None:
            await self.server.close()
            self.server = None
        if self.service is not None:
            self.service.stop()
        if self.task is not None:
            try:
                await asyncio.wait_for(self.task, 5)
            except BaseException:
                pass
            self.task = None
        if self.world.radio is not None:
            await self.world.radio.close()

