"""Simulated glasses and an in-process phone on one radio, in one loop: the rig for
end-to-end tests, benches and `make sim`.

    rig = Linked(seed=3)                         # virtual time by default
    async def scenario():
        await rig.start()                        # boots the glasses, starts the phone
        await rig.phone.wait_open(30)
        print(await rig.phone.status())
    rig.run(scenario())
    rig.close()

The phone is host_tools.phone.link.Phone on bleak with the bumble backend, reaching the
glasses' radio through a host controller on the same LocalLink; its session uses the
world's clock, so virtual time covers both ends.

With radio_power=True (the default) the radio's current is accounted on the board's power
meter (sim/radiopower.py): advertising, connection events, data, BLE through sleep.

With notify=True (the default) the phone has the notification feature attached
(host_tools/notify/host.py): `rig.notify.send(...)`, `rig.notify.actions`, `.events`.
Its local time (what it tells the glasses for quiet hours) is `local_time()`: by default,
in virtual time, 2026-01-01 09:00 UTC plus the simulated time (the same every run), in
real time the computer's clock.

With voice=True (the default) the phone serves the voice path (host_tools/voice/host.py):
`rig.voice` is its VoiceHost (`voice_kw` are its options: handlers, speculation, ...);
under virtual time the speech engines' CPU time is charged to the simulated timeline.
"""
import asyncio
import tempfile

from sim.runner import SimGlasses

LOCAL_T0 = 1767258000  # 2026-01-01 09:00:00 UTC: the virtual phone's clock at t = 0


class Linked:
    def __init__(self, board="xiao_esp32s3_sense", seed=0, virtual=True, radio=True,
                 flash_dir=None, config_dir=None, worn=True, keep_log=True, phone_kw=None,
                 notify=True, local_time=None, radio_power=True, voice=True, voice_kw=None,
                 **glasses_kw):
        self.glasses = SimGlasses(board, seed=seed, virtual=virtual, radio=radio,
                                  flash_dir=flash_dir or tempfile.mkdtemp(prefix="glasses-"),
                                  keep_log=keep_log, **glasses_kw)
        self.world = self.glasses.world
        self.loop = self.world.loop
        self.config_dir = config_dir or tempfile.mkdtemp(prefix="glasses-host-")
        self.phone_kw = phone_kw or {}
        self.phone = None
        self.notify = None  # host_tools.notify.host.NotifyHost once the phone exists
        self.notify_on = notify
        self.voice = None  # host_tools.voice.host.VoiceHost once the phone exists
        self.voice_on = voice
        self.voice_kw = voice_kw or {}
        self.local_time = local_time or self._local_time
        self.radio_choice = None
        self.radio_power_on = radio_power
        self.radio_power = None  # sim.radiopower.RadioPower once the radio exists
        self._tasks = []
        if worn and "prox" in self.world.parts:
            self.world.part("prox").put_on()

    async def start(self, phone=True):
        """Boot the glasses (and start the phone, which connects and pairs)."""
        self._tasks.append(self.glasses.start())
        radio = await self.glasses.wait_radio()
        if self.radio_power_on and self.radio_power is None:
            from sim.radiopower import RadioPower
            self.radio_power = RadioPower(self.world, radio)
        if phone:
            self.phone = self.make_phone()
            if self.notify_on:
                from host_tools.notify.host import attach
                self.notify = attach(self.phone)
            if self.voice_on:
                from host_tools.voice.host import attach as attach_voice
                self.voice = attach_voice(self.phone, virtual=self.world.virtual,
                                          **self.voice_kw)
            self._tasks.append(self.loop.create_task(self.phone.run()))
        return self

    def make_phone(self, **kw):
        """A Phone on the rig's radio (one host controller, bonds in config_dir) and the
        world's clock; start() makes one, a HostService (sim/sim_host.py) makes its own."""
        from host_tools.radio import open_radio
        from host_tools.phone.link import Phone

        if self.radio_choice is None:
            self.radio_choice = open_radio(radio=self.world.radio,
                                           config_dir_path=self.config_dir)
        args = dict(clock=self.world.fw_clock, announce=self._note, local_time=self.local_time)
        args.update(self.phone_kw)
        args.update(kw)
        return Phone(self.radio_choice, **args)

    def _local_time(self):
        """(unix seconds, UTC offset minutes) of the rig's phone."""
        if not self.world.virtual:
            from host_tools.phone.link import system_local_time
            return system_local_time()
        return LOCAL_T0 + int(self.world.now_s()), 0

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
        if self.voice is not None:
            await self.voice.close()
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
