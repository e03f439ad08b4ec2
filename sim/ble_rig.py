"""Simulated glasses on the simulator's radio, for tests, benches and the runner: the
firmware's Scheduler driven by the kernel's FirmwareDriver, the `bluetooth` mirror, and
the firmware's GattPeripheral, in the loop that also runs the hosts.

    loop, clock = new_loop(True, seed)
    async def main():
        radio = Radio(LinkSettings(), seed)
        glasses = Glasses(radio, clock, store_root)
        glasses.start()
        host = open_radio(radio=radio)          # host_tools.radio
        ...
        glasses.stop()
"""
from __future__ import annotations

import asyncio

from sim import mirror

mirror.install()

from firmware.ble.gatt import GattPeripheral  # noqa: E402
from firmware.runtime import sched as S  # noqa: E402
from firmware.runtime.log import Log  # noqa: E402
from firmware.runtime.store import Store  # noqa: E402
from sim.kernel import FirmwareDriver  # noqa: E402

UNIQUE_ID = bytes.fromhex("a1b2c3d4e5f6")


class Glasses:
    def __init__(self, radio, clock, store_root, name="Glasses-A1B2", model="sim",
                 firmware_version="0.1.0", unique_id=UNIQUE_ID, on_frame=None,
                 max_bonds=4, tx_buffers=24, **gatt_kw):
        self.radio = radio
        self.clock = clock
        self.log = Log(64, clock=clock)
        self.sched = S.Scheduler(clock=clock, log=self.log)
        self.driver = FirmwareDriver(self.sched)
        self.ble = radio.glasses_ble(kick=self.driver.kick, tx_buffers=tx_buffers)
        self.store = Store(store_root)
        self.frames = []
        self.gatt = GattPeripheral(
            self.ble, self.sched, self.store, name, model, firmware_version, unique_id,
            on_frame=on_frame if on_frame is not None else self.frames.append,
            max_bonds=max_bonds, log=self.log, **gatt_kw)
        self._task = None

    def start(self):
        self.gatt_task = self.sched.spawn(self.gatt.run, name="gatt", prio=S.PRIO_LINK)
        self._task = asyncio.get_running_loop().create_task(self.driver.run())
        return self

    def spawn(self, fn, *args, **kw):
        """Run another firmware task on the glasses' scheduler."""
        t = self.sched.spawn(fn, *args, **kw)
        self.driver.kick()
        return t

    async def stop(self):
        self.driver.stop()
        if self._task is not None:
            await self._task
            self._task = None
