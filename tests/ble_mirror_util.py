"""Helpers for the `bluetooth` mirror's tests (test_ble_mirror.py, test_ble_mirror_gap.py):
the mirror's BLE object active with two services and advertising, and a bleak host on the
same simulated radio (virtual time)."""
import types

from bleak import BleakClient, BleakScanner

from ble_util import run_loop, until
from firmware.ble import adv
from host_tools.radio import open_radio
from sim.kernel import new_loop
from sim.mirror import bluetooth
from sim.radio import Radio

RX_S = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"
TX_S = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"
CTL_S = "6e400004-b5a3-f393-e0a9-e50e24dcca9e"
SVC = bluetooth.UUID("6e400001-b5a3-f393-e0a9-e50e24dcca9e")
RX = bluetooth.UUID(RX_S)
TX = bluetooth.UUID(TX_S)
CTL = bluetooth.UUID(CTL_S)
IND_S = "6e400011-b5a3-f393-e0a9-e50e24dcca9e"
SERVICES = ((SVC, ((RX, bluetooth.FLAG_WRITE | bluetooth.FLAG_WRITE_NO_RESPONSE),
                   (TX, bluetooth.FLAG_READ | bluetooth.FLAG_NOTIFY),
                   (CTL, bluetooth.FLAG_READ | bluetooth.FLAG_WRITE,
                    ((bluetooth.UUID(0x2901), bluetooth.FLAG_READ),)))),
            (bluetooth.UUID("6e400010-b5a3-f393-e0a9-e50e24dcca9e"),
             ((bluetooth.UUID(IND_S), bluetooth.FLAG_READ | bluetooth.FLAG_INDICATE),)))
NAME = "Mirror-1"


def run(tmp_path, body, seed=2, secrets=True):
    """body(env): env.ble (active, services registered, advertising), env.events (IRQs
    as (event, data) with views copied), env.handles, env.host (bleak backends)."""
    loop, _ = new_loop(True, seed)

    async def main():
        radio = Radio(seed=seed)
        ble = radio.glasses_ble()
        env = types.SimpleNamespace(loop=loop, radio=radio, ble=ble, events=[], store={},
                                    answers={}, kept=[])

        def handler(event, data):
            if event == 29 and secrets:  # _IRQ_GET_SECRET
                sec_type, index, key = data
                items = [v for (t, k), v in env.store.items() if t == sec_type]
                if key is None:
                    return items[index] if index < len(items) else None
                return env.store.get((sec_type, bytes(key)))
            if event == 30 and secrets:  # _IRQ_SET_SECRET
                sec_type, key, value = data
                if value is None:
                    env.store.pop((sec_type, bytes(key)), None)
                else:
                    env.store[(sec_type, bytes(key))] = bytes(value)
                return True
            env.kept.append(data)
            env.events.append((event, tuple(bytes(x) if isinstance(x, memoryview) else x
                                            for x in data)))
            answer = env.answers.get(event)
            if isinstance(answer, Exception):
                raise answer
            return answer

        ble.irq(handler)
        ble.active(True)
        ble.config(gap_name=NAME, mtu=247, bond=True, le_secure=True)
        env.handles = ble.gatts_register_services(SERVICES)
        ble.gap_advertise(20000, adv.advertising_data(),
                          resp_data=adv.scan_response(NAME))
        env.host = open_radio(radio=radio, config_dir_path=str(tmp_path / "host"))
        try:
            return await body(env)
        finally:
            await env.host.close()

    return run_loop(loop, main())


async def connect(env, **kw):
    """A bleak client of the host, connected to the advertising mirror."""
    dev = await BleakScanner.find_device_by_name(NAME, timeout=5, backend=env.host.scanner)
    assert dev is not None, "not advertising"
    c = BleakClient(dev, backend=env.host.client, **kw)
    await c.connect()
    return c


async def readvertise(env, client):
    """Disconnect; like NimBLE, the stack does not advertise again by itself."""
    await client.disconnect()
    await until(env, lambda: any(e == 2 for e, _ in env.events))
    env.ble.gap_advertise(20000)


def last_conn(env):
    """The handle of the last connection."""
    return [d for e, d in env.events if e == 1][-1][0]
