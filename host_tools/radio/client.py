"""bleak client backend on a BumbleAdapter (see bleak/backends/client.py for the contract).

What an OS stack would do on its own, done here too: a bonded peer is re-encrypted
right after connecting (no new pairing), the ATT MTU is raised (517, as Android asks),
and the connection interval is moved to the one the peripheral advertises it prefers
(AD type 0x12), as phones do after the first connection.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from bumble import att, core, hci
from bumble.device import ConnectionParametersPreferences, Peer
from bleak.assigned_numbers import gatt_char_props_to_strs
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError

from host_tools.errors import PairingRefused
from host_tools.radio.uuid import uuid_str

log = logging.getLogger(__name__)

HOST_MTU = 517
FIRST_INTERVAL_MS = (30.0, 50.0)  # what a phone connects with before it adapts
SUPERVISION_TIMEOUT_MS = 4000
ENCRYPT_TIMEOUT_S = 10.0  # re-encrypting with a stored key: a few round trips at most


def _address(address_or_ble_device):
    """(bumble Address, advertisement or None)."""
    if isinstance(address_or_ble_device, BLEDevice):
        details = address_or_ble_device.details
        if isinstance(details, dict) and "address" in details:
            return details["address"], details.get("adv")
        address_or_ble_device = address_or_ble_device.address
    return hci.Address(str(address_or_ble_device).split("/")[0],
                       hci.Address.RANDOM_DEVICE_ADDRESS), None


def preferred_interval_ms(adv):
    """The (min, max) connection interval range a peripheral advertises, or None."""
    if adv is None:
        return None
    for ad_type, raw in adv.data.ad_structures:
        if ad_type == 0x12 and len(raw) == 4:
            lo = int.from_bytes(raw[:2], "little") * 1.25
            hi = int.from_bytes(raw[2:], "little") * 1.25
            if 7.5 <= lo <= hi <= 4000:
                return lo, hi
    return None


class BleakClientBumble(BaseBleakClient):
    """Connects through the adapter bound to the class (see host_tools.radio)."""

    adapter: Any = None  # set on the subclass bind() makes

    def __init__(self, address_or_ble_device, *, disconnected_callback=None,
                 timeout=10.0, services=None, **kwargs: Any):
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback,
                         timeout=timeout)
        self._target, self._adv = _address(address_or_ble_device)
        self._name = address_or_ble_device.name if isinstance(
            address_or_ble_device, BLEDevice) else None
        self._conn = None
        self._peer = None
        self._disconnecting = False
        self._subscriptions: dict[int, Any] = {}
        self.bond_lost = False  # re-encryption failed: the peripheral forgot this host
        self.disconnect_reason = None

    # ---- properties ------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name or self.address

    @property
    def mtu_size(self) -> int:
        return self._conn.att_mtu if self._conn is not None else att.ATT_DEFAULT_MTU

    @property
    def is_connected(self) -> bool:
        return self._conn is not None

    @property
    def connection(self):
        """The bumble Connection (for tests and tools that need link details)."""
        return self._conn

    @property
    def is_encrypted(self) -> bool:
        return self._conn is not None and bool(self._conn.is_encrypted)

    # ---- connection ------------------------------------------------------------------
    async def connect(self, pair: bool, **kwargs: Any) -> None:
        dev = await self.adapter.open()
        prefs = ConnectionParametersPreferences(
            connection_interval_min=FIRST_INTERVAL_MS[0],
            connection_interval_max=FIRST_INTERVAL_MS[1],
            supervision_timeout=SUPERVISION_TIMEOUT_MS)
        try:
            conn = await dev.connect(self._target, transport=core.PhysicalTransport.LE,
                                     connection_parameters_preferences={hci.Phy.LE_1M: prefs},
                                     timeout=self._timeout)
        except (core.TimeoutError, asyncio.TimeoutError, TimeoutError):
            raise BleakDeviceNotFoundError(
                self.address, "device %s not found: nothing connectable answered within "
                "%.0f s" % (self.address, self._timeout)) from None
        except core.ConnectionError as e:
            raise BleakError("connection to %s failed: %s" % (self.address, e)) from None
        self._conn = conn
        self._disconnecting = False
        conn.on(conn.EVENT_DISCONNECTION, self._on_disconnection)
        self._peer = Peer(conn)
        try:
            if await self.adapter.keys_for(conn.peer_address) is not None:
                await self._encrypt(conn)
            elif pair:
                await self.pair()
            await self._peer.request_mtu(HOST_MTU)
            pref = preferred_interval_ms(self._adv)
            if pref is not None:
                await conn.update_parameters(pref[0], pref[0], 0, SUPERVISION_TIMEOUT_MS)
            self.services = await self._discover()
        except BaseException:
            await self._drop()
            raise

    async def _encrypt(self, conn):
        """Encrypt with the stored key, within ENCRYPT_TIMEOUT_S. Glasses that forgot this
        host refuse it (bond_lost: pair again) or drop the link (BleakError)."""
        try:
            await asyncio.wait_for(conn.encrypt(), ENCRYPT_TIMEOUT_S)
        except (core.ProtocolError, hci.HCI_Error, core.InvalidStateError) as e:
            self.bond_lost = True
            log.warning("%s no longer knows this host (%s): pair again", self.address, e)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            task = asyncio.current_task()
            if task is not None and getattr(task, "cancelling", lambda: 0)():
                raise  # this call itself was cancelled
            raise BleakError("%s did not take this host's key within %.0f s (did it "
                             "forget this host? `glasses forget`, then pair again)" %
                             (self.address, ENCRYPT_TIMEOUT_S)) from None

    async def _discover(self) -> BleakGATTServiceCollection:
        peer = self._peer
        coll = BleakGATTServiceCollection()
        for s in await peer.discover_services():
            svc = BleakGATTService(s, s.handle, uuid_str(s.uuid))
            coll.add_service(svc)
            for c in await s.discover_characteristics():
                ch = BleakGATTCharacteristic(
                    c, c.handle, uuid_str(c.uuid),
                    sorted(gatt_char_props_to_strs(int(c.properties))),
                    lambda: self.mtu_size - 3, svc)
                coll.add_characteristic(ch)
                for d in await c.discover_descriptors():
                    coll.add_descriptor(BleakGATTDescriptor(d, d.handle, uuid_str(d.type), ch))
                # bumble never sets this flag itself, so each subscribe() would discover
                # the descriptors again: one more round trip, during which notifications
                # that already arrive find no subscriber
                c.descriptors_discovered = True
        return coll

    def _on_disconnection(self, reason):
        conn = self._conn
        self._conn = None
        self._peer = None
        self._subscriptions.clear()
        # as bleak's own backends: the callback runs for every disconnection, also one
        # this client asked for (a caller waiting for it must not wait forever)
        if conn is not None and self._disconnected_callback:
            self._disconnected_callback()
        self.disconnect_reason = reason

    async def _drop(self):
        conn = self._conn
        if conn is not None:
            self._disconnecting = True
            try:
                await conn.disconnect()
            except Exception:
                pass
            self._conn = None

    async def prefer_interval(self, idle: bool) -> bool:
        """Move the connection to the slow end of the interval range the glasses prefer
        (idle) or to its fast end (data flows), as a phone's stack does (Android:
        requestConnectionPriority). False when they state no range or there is no link."""
        pref = preferred_interval_ms(self._adv)
        conn = self._conn
        if pref is None or conn is None:
            return False
        ms = pref[1] if idle else pref[0]
        await conn.update_parameters(ms, ms, 0, SUPERVISION_TIMEOUT_MS)
        return True

    async def disconnect(self) -> None:
        await self._drop()

    async def pair(self, *args: Any, bond: bool | None = None, secure: bool | None = None,
                   **kwargs: Any) -> None:
        """Pair with LE Secure Connections and bond (keys in the host config dir).
        `bond=False` pairs without storing keys; `secure=False` offers legacy pairing
        only (the glasses refuse it). Defaults: the adapter's bond_options."""
        conn = self._need()
        if conn.is_encrypted and not self.bond_lost:
            return
        opts = dict(self.adapter.bond_options)
        if bond is not None:
            opts["bonding"] = bond
        if secure is not None:
            opts["sc"] = secure
        conn.pairing_options = opts
        try:
            await conn.pair()
        except core.ProtocolError as e:
            raise PairingRefused("pairing with %s refused: %s" % (
                self.address, getattr(e, "error_name", "") or e)) from None
        finally:
            conn.pairing_options = None
        self.bond_lost = False

    async def unpair(self) -> None:
        dev = await self.adapter.open()
        name = str(self._conn.peer_address) if self._conn is not None else str(self._target)
        try:
            await dev.keystore.delete(name)
        except KeyError:
            pass
        await self._drop()

    def _need(self):
        if self._conn is None:
            raise BleakError("not connected")
        return self._conn

    # ---- I/O ---------------------------------------------------------------------------
    @staticmethod
    async def _att(coro):
        try:
            return await coro
        except att.ATT_Error as e:
            raise BleakGATTProtocolError(e.error_code) from None

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, *,
                             use_cached: bool = False, **kwargs: Any) -> bytearray:
        self._need()
        return bytearray(await self._att(self._peer.read_value(characteristic.handle)))

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, *,
                                   use_cached: bool = False, **kwargs: Any) -> bytearray:
        self._need()
        return bytearray(await self._att(self._peer.read_value(descriptor.handle)))

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data,
                              response: bool) -> None:
        self._need()
        await self._att(self._peer.write_value(characteristic.handle, bytes(data),
                                               with_response=response))

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data) -> None:
        self._need()
        await self._att(self._peer.write_value(descriptor.handle, bytes(data),
                                               with_response=True))

    async def start_notify(self, characteristic: BleakGATTCharacteristic,
                           callback: NotifyCallback, **kwargs: Any) -> None:
        self._need()
        proxy = characteristic.obj

        def on_value(value, callback=callback):
            callback(bytearray(value))

        try:
            await self._att(self._peer.subscribe(proxy, on_value))
        except BaseException:
            try:  # forget the subscriber again (the CCCD write itself was refused)
                await self._peer.unsubscribe(proxy, on_value)
            except att.ATT_Error:
                pass
            raise
        self._subscriptions[characteristic.handle] = on_value

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        self._need()
        on_value = self._subscriptions.pop(characteristic.handle, None)
        await self._att(self._peer.unsubscribe(characteristic.obj, on_value))
