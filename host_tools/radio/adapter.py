"""The host's Bluetooth adapter on the virtual radio: one bumble central `Device` that all
bleak scanners and clients of this backend share, as an OS adapter is shared.

Its controller is either in-process (a virtual controller on the simulator's link, same
asyncio loop) or reached over TCP (`tcp-client:HOST:PORT`, the simulator's exposed
controllers). Bond keys are kept as bumble's JSON key store in the host's config dir,
with the host's own random static address and IRK, so a bond survives restarts; both
files are private (host_tools/config.py).
"""
from __future__ import annotations

import asyncio
import json
import os
import secrets

from bumble import hci
from bumble.device import Device, DeviceConfiguration
from bumble.host import Host
from bumble.keys import JsonKeyStore
from bumble.pairing import PairingConfig, PairingDelegate

from host_tools.config import config_dir, private_dir, private_file, write_private

KEYSTORE_NAMESPACE = "glasses-host"


class PrivateKeyStore(JsonKeyStore):
    """bumble's JSON key store, written 0600 in a 0700 folder."""

    async def save(self, db):
        write_private(str(self.filename), json.dumps(db, sort_keys=True, indent=4))


def _identity(directory):
    """The host's stable random static address and IRK (created on first use)."""
    path = os.path.join(directory, "host.json")
    private_dir(directory)
    private_file(path)
    try:
        with open(path) as f:
            d = json.load(f)
        return hci.Address(d["address"], hci.Address.RANDOM_DEVICE_ADDRESS), \
            bytes.fromhex(d["irk"])
    except (OSError, ValueError, KeyError):
        pass
    b = bytearray(secrets.token_bytes(6))
    b[0] |= 0xC0  # random static
    address = ":".join("%02X" % x for x in b)
    irk = secrets.token_bytes(16)
    write_private(path, json.dumps({"address": address, "irk": irk.hex()}))
    return hci.Address(address, hci.Address.RANDOM_DEVICE_ADDRESS), irk


class BumbleAdapter:
    """A central on a virtual controller. `controller` (in-process) or `transport` (a
    bumble transport moniker such as "tcp-client:127.0.0.1:7101")."""

    def __init__(self, controller=None, transport=None, config_dir_path=None,
                 name="glasses-host"):
        if (controller is None) == (transport is None):
            raise ValueError("give either an in-process controller or a transport")
        self.controller = controller
        self.transport_spec = transport
        self.config_dir = config_dir(config_dir_path)
        self.name = name
        self.device = None
        self._transport = None
        self._opening = None
        self._scanners = set()
        self.bond_options = {"bonding": True, "sc": True}

    @property
    def description(self):
        return self.transport_spec or "in-process virtual controller"

    async def open(self):
        """Power the adapter on (once; concurrent callers wait for the same start)."""
        if self.device is not None:
            return self.device
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._open())
        try:
            return await asyncio.shield(self._opening)
        except BaseException:
            self._opening = None
            raise

    async def _open(self):
        address, irk = _identity(self.config_dir)
        cfg = DeviceConfiguration()
        cfg.name = self.name
        cfg.address = address
        cfg.irk = irk
        dev = Device(config=cfg)
        if self.controller is not None:
            from bumble.transport.common import AsyncPipeSink
            dev.host = Host(self.controller, AsyncPipeSink(self.controller))
        else:
            from bumble.transport import open_transport
            self._transport = await open_transport(self.transport_spec)
            dev.host = Host(self._transport.source, self._transport.sink)
        bonds = os.path.join(self.config_dir, "bonds.json")
        private_file(bonds)  # a file an older version wrote with the umask's rights
        dev.keystore = PrivateKeyStore(KEYSTORE_NAMESPACE, bonds)
        dev.pairing_config_factory = self._pairing_config
        await dev.power_on()
        self.device = dev
        return dev

    def _pairing_config(self, connection):
        opts = getattr(connection, "pairing_options", None) or self.bond_options
        return PairingConfig(
            sc=opts.get("sc", True), mitm=False, bonding=opts.get("bonding", True),
            delegate=PairingDelegate(
                io_capability=PairingDelegate.IoCapability.DISPLAY_OUTPUT_AND_KEYBOARD_INPUT))

    async def close(self):
        dev = self.device
        self.device = None
        self._opening = None
        if dev is not None:
            for c in list(dev.connections.values()):
                try:
                    await c.disconnect()
                except Exception:
                    pass
            try:
                await dev.power_off()
            except Exception:
                pass
        if self._transport is not None:
            await self._transport.close()
            self._transport = None

    # ---- scanning, shared by every scanner of this adapter ----------------------------
    async def add_scanner(self, scanner, active):
        dev = await self.open()
        first = not self._scanners
        self._scanners.add(scanner)
        if first:
            dev.on(dev.EVENT_ADVERTISEMENT, self._on_advertisement)
            await dev.start_scanning(active=active, filter_duplicates=False)

    async def remove_scanner(self, scanner):
        self._scanners.discard(scanner)
        dev = self.device
        if not self._scanners and dev is not None:
            dev.remove_listener(dev.EVENT_ADVERTISEMENT, self._on_advertisement)
            await dev.stop_scanning()

    def _on_advertisement(self, advertisement):
        for s in list(self._scanners):
            s.on_advertisement(advertisement)

    # ---- bonds ------------------------------------------------------------------------
    async def keys_for(self, address):
        dev = await self.open()
        return await dev.keystore.get(str(address))

    async def bonds(self):
        dev = await self.open()
        return await dev.keystore.get_all()
