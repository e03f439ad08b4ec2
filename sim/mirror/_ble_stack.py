"""The bumble side of the `bluetooth` mirror: what NimBLE does on a board, done by a bumble
`Device` (a peripheral) on the simulator's radio.

- Bond keys never stay in bumble: `IrqKeyStore` asks the application through
  _IRQ_GET_SECRET / _IRQ_SET_SECRET, as MicroPython's NimBLE port does, so the firmware
  keeps bonds on its own flash. A record's key is what NimBLE passes: the peer's identity
  address as a ble_addr_t (type byte, 6 bytes little-endian); its value is opaque.
- SMP as NimBLE configures it: bonding only when both sides ask for it (bumble would store
  keys anyway); with le_secure set, legacy pairing is refused; passkey steps go to the
  application as _IRQ_PASSKEY_ACTION and come back through gap_passkey().
- Stack operations that are asynchronous in bumble (advertising, disconnect, MTU exchange,
  security request) run in order on a small queue; the synchronous API call returns at
  once, as the board's does.
"""
from __future__ import annotations

import json
import logging
from collections import deque

from bumble import hci, pairing, smp
from bumble.keys import KeyStore, PairingKeys

log = logging.getLogger("sim.bluetooth")

IRQ_GET_SECRET = 29
IRQ_SET_SECRET = 30
IRQ_PASSKEY_ACTION = 31
SEC_TYPE_PEER = 2  # NimBLE's BLE_STORE_OBJ_TYPE_PEER_SEC
PASSKEY_ACTION_INPUT = 2
PASSKEY_ACTION_DISPLAY = 3
PASSKEY_ACTION_NUMERIC_COMPARISON = 4
_MAX_BONDS_LISTED = 64  # bound on the index walk of get_all()


def record_key(address):
    """NimBLE's ble_addr_t of an address: the type byte (0 public, 1 random), then the 6
    bytes little-endian (bumble keeps them so)."""
    return bytes((address.address_type & 1,)) + bytes(address)


class OpQueue:
    """Runs the stack's asynchronous operations one after the other. No task exists
    while the queue is empty (an idle stack costs nothing)."""

    def __init__(self, loop):
        self.loop = loop
        self._q = deque()
        self._task = None
        self.failures = []  # (name, exception) of failed operations, newest last (bounded)

    def post(self, name, make_coro):
        self._q.append((name, make_coro))
        if self._task is None or self._task.done():
            self._task = self.loop.create_task(self._run())

    async def _run(self):
        while self._q:
            name, make = self._q.popleft()
            try:
                await make()
            except Exception as e:  # the board would have raised; here it is logged
                log.warning("bluetooth: %s failed: %s", name, e)
                self.failures.append((name, e))
                del self.failures[:-16]


class IrqKeyStore(KeyStore):
    """bumble's key store, kept by the application through the secret IRQs."""

    def __init__(self, ble):
        self.ble = ble

    @staticmethod
    def _key(name):
        return record_key(hci.Address(name))

    def _decode(self, value):
        try:
            d = json.loads(bytes(value).decode())
            return d["name"], PairingKeys.from_dict(d["keys"])
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            log.warning("bluetooth: the application returned a secret that is not ours")
            return None

    async def get(self, name):
        value = self.ble._secret_get(SEC_TYPE_PEER, 0, self._key(name))
        if value is None:
            return None
        got = self._decode(value)
        return got[1] if got else None

    async def update(self, name, keys):
        old = await self.get(name)
        merged = old.to_dict() if old is not None else {}
        merged.update(keys.to_dict())
        value = json.dumps({"name": name, "keys": merged}, sort_keys=True).encode()
        if not self.ble._secret_set(SEC_TYPE_PEER, self._key(name), value):
            raise RuntimeError("the application did not store the bond keys")

    async def delete(self, name):
        self.ble._secret_set(SEC_TYPE_PEER, self._key(name), None)

    async def get_all(self):
        out = []
        for i in range(_MAX_BONDS_LISTED):
            value = self.ble._secret_get(SEC_TYPE_PEER, i, None)
            if value is None:
                break
            got = self._decode(value)
            if got:
                out.append(got)
        return out


class IrqDelegate(pairing.PairingDelegate):
    """Passkey steps of one connection's pairing, answered by the application."""

    def __init__(self, ble, conn_handle, io_capability):
        super().__init__(io_capability=io_capability)
        self.ble = ble
        self.conn_handle = conn_handle

    async def _ask(self, action, passkey):
        fut = self.ble._passkey_request(self.conn_handle, action, passkey)
        return await fut

    async def generate_passkey(self):
        return int(await self._ask(PASSKEY_ACTION_DISPLAY, 0))

    async def get_number(self):
        n = await self._ask(PASSKEY_ACTION_INPUT, 0)
        return None if n is None else int(n)

    async def compare_numbers(self, number, digits=6):
        return bool(await self._ask(PASSKEY_ACTION_NUMERIC_COMPARISON, number))


class SecureSession(smp.Session):
    """An SMP session that refuses legacy pairing when LE Secure Connections is required
    (MicroPython's config(le_secure=True))."""

    @property
    def sc_only(self):
        return getattr(self.pairing_config, "sc_only", False)

    async def on_smp_pairing_request_command_async(self, command):
        if self.sc_only and not (command.auth_req & smp.AuthReq.SC):
            self.send_pairing_failed(smp.ErrorCode.AUTHENTICATION_REQUIREMENTS)
            return
        await super().on_smp_pairing_request_command_async(command)

    def on_smp_pairing_response_command(self, command):
        if self.sc_only and not (command.auth_req & smp.AuthReq.SC):
            self.send_pairing_failed(smp.ErrorCode.AUTHENTICATION_REQUIREMENTS)
            return
        super().on_smp_pairing_response_command(command)


class BondingManager(smp.Manager):
    """Stores keys only when both sides asked for bonding (bumble stores them always)."""

    async def on_pairing(self, session, identity_address, keys):
        session.connection.bonded_by_pairing = session.bonding
        if session.bonding:
            await super().on_pairing(session, identity_address, keys)
        else:
            self.device.on_pairing(session.connection, identity_address, keys, session.sc)
