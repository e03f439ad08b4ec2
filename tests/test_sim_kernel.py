"""The simulator kernel: virtual-time asyncio loop and the firmware driver."""
import asyncio
import time

import pytest

from sim.kernel import FirmwareDriver, SimulationStalled, new_loop
from firmware.runtime import sched as S
from firmware.runtime.sync import Flag


def test_virtual_loop_jumps_over_waits():
    loop, clock = new_loop(True, seed=3)
    t0 = time.monotonic()

    async def main():
        await asyncio.sleep(3600)
        return loop.time()

    assert loop.run_until_complete(main()) == pytest.approx(3600, abs=1e-3)
    assert time.monotonic() - t0 < 2
    assert clock.elapsed_ms() == 3600000
    loop.close()


def test_virtual_loop_reports_a_stall():
    loop, _ = new_loop(True)

    async def main():
        await asyncio.Event().wait()  # nothing will ever set it

    with pytest.raises(SimulationStalled):
        loop.run_until_complete(main())
    loop.close()


def test_firmware_and_asyncio_parts_share_virtual_time():
    loop, clock = new_loop(True, seed=9)
    sched = S.Scheduler(clock=clock)
    idles = []
    drv = FirmwareDriver(sched, idle=idles.append)
    flag = Flag(sched)
    log = []

    async def fw_ticker():
        for _ in range(3):
            await S.sleep_ms(1000)
            log.append(("fw tick", clock.elapsed_ms()))

    async def fw_irq_waiter():
        ok = await flag.wait(10000)
        log.append(("fw irq", ok, clock.elapsed_ms()))

    async def device():  # a part below the HAL raising an interrupt at t = 1.5 s
        await asyncio.sleep(1.5)
        flag.set()
        drv.kick()

    async def main():
        task = loop.create_task(drv.run())
        await device()
        await asyncio.sleep(2)
        drv.stop()
        await task

    sched.spawn(fw_ticker)
    sched.spawn(fw_irq_waiter, prio=S.PRIO_AUDIO)
    loop.run_until_complete(main())
    loop.close()
    assert log == [("fw tick", 1000), ("fw irq", True, 1500), ("fw tick", 2000),
                   ("fw tick", 3000)], log
    assert idles[:2] == [1000, 1000] and 500 in idles, idles
