"""Helpers for the BLE tests: simulated glasses and a bleak host on one radio, in one
virtual-time loop (over the real bumble stack on both sides)."""
import asyncio
import types

from sim import mirror

mirror.install()

from bleak import BleakClient, BleakScanner  # noqa: E402

from firmware.protocol import uuids  # noqa: E402
from host_tools.radio import open_radio  # noqa: E402
from sim.ble_rig import Glasses  # noqa: E402
from sim.kernel import new_loop  # noqa: E402
from sim.linkmodel import DEFAULT as DEFAULT_SETTINGS  # noqa: E402
from sim.mirror import bluetooth as mirror_bluetooth  # noqa: E402
from sim.radio import Radio  # noqa: E402

NAME = "Glasses-A1B2"

BATTERY = uuids.uuid16_full(uuids.BATTERY_LEVEL)


def run_loop(loop, coro):
    try:
        return loop.run_until_complete(coro)
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
        mirror_bluetooth.detach()


def run_sim(tmp_path, body, seed=1, settings=DEFAULT_SETTINGS, host=True, **glasses_kw):
    """Run `await body(env)` with glasses advertising on a radio and (host=True) a bleak
    host on the same radio. env: loop, clock, radio, glasses, host, tmp."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    loop, clock = new_loop(True, seed)

    async def main():
        radio = Radio(settings, seed)
        g = Glasses(radio, clock, str(tmp_path / "flash"), **glasses_kw).start()
        h = open_radio(radio=radio, config_dir_path=str(tmp_path / "host")) if host else None
        env = types.SimpleNamespace(loop=loop, clock=clock, radio=radio, glasses=g, host=h,
                                    tmp=tmp_path)
        try:
            return await body(env)
        finally:
            if h is not None:
                await h.close()
            await g.stop()

    return run_loop(loop, main())


async def find(env, timeout=5):
    dev = await BleakScanner.find_device_by_name(NAME, timeout=timeout,
                                                 backend=env.host.scanner)
    assert dev is not None, "the glasses were not found"
    return dev


async def connect(env, pair=False, **kw):
    client = BleakClient(await find(env), backend=env.host.client, **kw)
    await client.connect()
    if pair:
        await client.pair()
    return client


async def until(env, cond, timeout=5.0, step=0.005):
    """Wait (virtual time) until cond() is true; False if it never was."""
    t_end = env.loop.time() + timeout
    while not cond():
        if env.loop.time() >= t_end:
            return False
        await asyncio.sleep(step)
    return True
