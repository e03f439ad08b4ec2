"""A stranger's phone, written on plain bumble (not the project's bleak backend): a central
`Device` on the simulator's radio that finds the glasses, connects, pairs with Just Works
and bonding, and tries the link service. What the glasses let it do is what a phone app
nobody here wrote could do."""
import asyncio
import random

from bumble import hci
from bumble.core import UUID, AdvertisingData
from bumble.device import Device, DeviceConfiguration, Peer
from bumble.host import Host
from bumble.keys import MemoryKeyStore
from bumble.pairing import PairingConfig, PairingDelegate
from bumble.transport.common import AsyncPipeSink

from firmware.protocol import uuids


def random_static(rng):
    b = bytearray(rng.getrandbits(8) for _ in range(6))
    b[0] |= 0xC0
    return ":".join("%02X" % x for x in b)


class Stranger:
    """A central of its own on `radio` (sim.radio.Radio), with a random static address
    (seeded; `address` to choose one)."""

    def __init__(self, radio, name="stranger", seed=0, address=None):
        cfg = DeviceConfiguration()
        cfg.name = name
        cfg.address = hci.Address(address or random_static(random.Random("%s-%d" % (name,
                                                                               seed))))
        self.device = Device(config=cfg)
        controller = radio.host_controller(name)
        self.device.host = Host(controller, AsyncPipeSink(controller))
        self.device.keystore = MemoryKeyStore()
        self.device.pairing_config_factory = lambda c: PairingConfig(
            sc=True, mitm=False, bonding=True,
            delegate=PairingDelegate(io_capability=PairingDelegate.NO_OUTPUT_NO_INPUT))
        self.notified = []  # whatever the glasses notified on TX
        self.started = False

    async def start(self):
        if not self.started:
            await self.device.power_on()
            self.started = True
        return self

    async def find(self, timeout=10.0):
        """The glasses' address from their advertising (name "Glasses-..."), or None."""
        await self.start()
        loop = asyncio.get_running_loop()
        found = loop.create_future()

        want = UUID(uuids.SERVICE)

        def on_adv(adv):
            listed = adv.data.get(AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS)
            if listed and want in listed and not found.done():
                found.set_result(adv.address)
        self.device.on("advertisement", on_adv)
        await self.device.start_scanning(active=True)
        try:
            return await asyncio.wait_for(found, timeout)
        except asyncio.TimeoutError:
            return None
        finally:
            self.device.remove_listener("advertisement", on_adv)
            await self.device.stop_scanning()

    async def connect(self, address, timeout=10.0):
        """A connection (with .dropped: an Event set when it goes)."""
        conn = await self.device.connect(address, timeout=timeout)
        conn.dropped = asyncio.Event()
        conn.on("disconnection", lambda reason: conn.dropped.set())
        return conn

    async def pair(self, conn):
        """True if the pairing completed on this side (Just Works, bonding asked)."""
        try:
            await asyncio.wait_for(conn.pair(), 10)
            return True
        except Exception:
            return False

    async def try_link(self, conn, writes=3, payload=b"\xf3\x00\x00\xa0"):
        """What a stranger would do with the link service: subscribe to TX, write RX.
        Returns (subscribed, writes that went out)."""
        peer = Peer(conn)
        subscribed = False
        sent = 0
        try:
            await peer.discover_services()
            for s in peer.services:
                await s.discover_characteristics()
            tx = peer.get_characteristics_by_uuid(UUID(uuids.TX))
            rx = peer.get_characteristics_by_uuid(UUID(uuids.RX))
            if tx:
                try:
                    await peer.subscribe(tx[0], lambda v: self.notified.append(bytes(v)))
                    subscribed = True
                except Exception:
                    pass
            for _ in range(writes if rx else 0):
                await peer.write_value(rx[0], payload, with_response=False)
                sent += 1
        except Exception:  # the glasses dropped us on the way
            pass
        return subscribed, sent

    async def close(self):
        try:
            await self.device.power_off()
        except Exception:
            pass


async def still_connected(conn, seconds):
    """Is conn (from Stranger.connect) still up after `seconds`? Returns at the drop."""
    try:
        await asyncio.wait_for(conn.dropped.wait(), seconds)
        return False
    except asyncio.TimeoutError:
        return True
