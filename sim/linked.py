"""Simulated glasses and an in-process phone on one radio, in one loop: the rig for
end-to-end tests, benches and `make sim`.

    rig = Linked(seed=3)                         # virtual time by default
    async def scenario():
        await rig.start()                        # boots the glasses, starts the phone
        await rig.phone.wait_open(30)
        print(await rig.phone.status())
    rig.run(scenario())
    rig.close()

The phone is host_tools.phone.Phone on bleak with the bumble backend, reaching the
glasses' radio through a host controller on the same LocalLink; its session uses the
world's clock, so virtual time covers both ends.
"""
import asyncio
import tempfile

from sim.runner import SimGlasses


class Linked:
    def __init__(self, board="xiao_esp32s3_sense", seed=0, virtual=True, radio=True,
                 flash_dir=None, config_dir=None, worn=True, keep_log=True, phone_kw=None,
                 **glasses_kw):
        self.glasses = SimGlasses(board, seed=seed, virtual=virtual, radio=radio,
                                  flash_dir=flash_dir or tempfile.mkdtemp(prefix="glasses-"),
                                  keep_log=keep_log, **glasses_kw)
        self.world = self.glasses.world
        self.loop = self.world.loop
        self.config_dir = config_dir or tempfile.mkdtemp(prefix="glasses-host-")
        self.phone_kw = phone_kw or {}
        self.phone = None
        self.radio_choice = None
        self._tasks = []
        if worn and "prox" in self.world.parts:
            self.world.part("prox").put_on()

    async def start(self, phone=True):
        """Boot the glasses (and start the phone, which connects and pairs)."""
        self._tasks.append(self.glasses.start())
        await self.glasses.wait_radio()
        if phone:
            self.phone = self.make_phone()
            self._tasks.append(self.loop.create_task(self.phone.run()))
        return self

    def make_phone(self, **kw):
        """A Phone on the rig's radio (one host controller, bonds in config_dir) and the
        world's clock; start() makes one, a HostService (sim/sim_host.py) makes its own."""
        from host_tools.bleak_bumble import open_radio
        from host_tools.phone import Phone

        if self.radio_choice is None:
            self.radio_choice = open_radio(radio=self.world.radio,
                                           config_dir_path=self.config_dir)
        args = dict(clock=self.world.fw_clock, announce=self._note)
        args.update(self.phone_kw)
        args.update(kw)
        return Phone(self.radio_choice, **args)

    def _note(self, text):
        self.world.note("host", text)

    def run(self, coro):
        """Run a scenario coroutine in the rig's loop; stops everything after it."""
        async def wrapped():
            try:
                return await coro
            finally:
                await self.stop()
        return self.loop.run_until_complete(wrapped())

    async def stop(self):
        if self.phone is not None:
            self.phone.stop()
        self.glasses.stop()
        if self._tasks:  # let them end by themselves (a phone hangs up cleanly)
            await asyncio.wait(self._tasks, timeout=2)
            await asyncio.sleep(0.05)  # and the radio finish what the hang-up started
        for t in self._tasks:
            if not t.done():
                t.cancel()
        for t in self._tasks:
            try:
                await t
            except BaseException:  # cancelled, or what the stop interrupted
                pass
        self._tasks = []
        if self.radio_choice is not None:
            await self.radio_choice.close()
            self.radio_choice = None

    def close(self):
        self.glasses.close()
