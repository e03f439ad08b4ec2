"""The radio's controllers exposed over TCP: a host in another process (here: a second
bumble stack over bumble's own `tcp-client:` transport) scans and connects, in real time.
Kept short: a few hundred ms of wall time."""
import asyncio

from bumble import hci
from bumble.core import UUID
from bumble.device import Device, DeviceConfiguration, Peer
from bumble.host import Host
from bumble.transport import open_transport

from ble_util import NAME, run_loop
from sim.ble_rig import Glasses
from sim.kernel import new_loop
from sim.radio import Radio


def test_a_host_over_tcp_scans_connects_and_is_dropped_with_its_socket(tmp_path):
    loop, clock = new_loop(False)  # real time: another process cannot follow virtual time
    lines = []

    async def main():
        radio = Radio(seed=1)
        g = Glasses(radio, clock, str(tmp_path)).start()
        host, port = await radio.serve_tcp(port=0, announce=lines.append)
        transport = await open_transport("tcp-client:%s:%d" % (host, port))
        cfg = DeviceConfiguration()
        cfg.name = "remote"
        cfg.address = hci.Address("F1:00:00:00:00:02")
        dev = Device(config=cfg)
        dev.host = Host(transport.source, transport.sink)
        await dev.power_on()
        found = loop.create_future()

        def on_adv(a):
            if (0x09, NAME.encode()) in [(t, bytes(d)) for t, d in a.data.ad_structures]:
                if not found.done():
                    found.set_result(a.address)

        dev.on("advertisement", on_adv)
        await dev.start_scanning()
        address = await asyncio.wait_for(found, 5)
        await dev.stop_scanning()
        conn = await asyncio.wait_for(dev.connect(address), 5)
        services = await Peer(conn).discover_service(UUID.from_16_bits(0x180A))
        model, = await services[0].discover_characteristics(uuids=[UUID.from_16_bits(0x2A24)])
        value = await model.read_value()
        was_connected = g.gatt.connected
        await transport.close()  # the host process goes away without disconnecting
        for _ in range(100):
            if not g.gatt.connected:
                break
            await asyncio.sleep(0.01)
        result = value, was_connected, g.gatt.connected, g.gatt.adv_phase, port
        await g.stop()
        await radio.close()
        return result

    value, was_connected, still, adv_phase, port = run_loop(loop, main())
    assert value == b"sim" and was_connected
    assert not still and adv_phase == 0  # dropped, advertising fast again
    assert lines == ["radio: hosts connect with `glasses scan --radio virtual:127.0.0.1:%d` "
                     "(bumble transport tcp-client:127.0.0.1:%d)" % (port, port)]
