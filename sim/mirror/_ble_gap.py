"""The GAP half of the `bluetooth` mirror: advertising, connections and their events,
pairing and bonding (bond keys and passkeys go through the application's IRQs, as NimBLE
does), and the IRQs all of that raises. Mixed into bluetooth.BLE."""
from __future__ import annotations

import errno

from bumble import hci
from bumble.device import AdvertisingType

from sim.mirror import _ble_stack as _stack

_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_MTU_EXCHANGED = 21
_IRQ_CONNECTION_UPDATE = 27
_IRQ_ENCRYPTION_UPDATE = 28


class _Conn:
    def __init__(self, c):
        self.c = c
        self.pairing = False


def _view(b):
    """A read-only view the handler may look at only during the IRQ, and its buffer."""
    buf = bytearray(b)
    return memoryview(buf).toreadonly(), buf


def _addr(address):
    """(addr_type, 6 bytes in display order) as MicroPython reports addresses."""
    return address.address_type & 1, bytes(address)[::-1]


class GapMixin:
    """Uses the BLE object's _device, _loop, _ops, _conns, _passkeys, _fire, _need_active,
    _mtu, _io, _mitm, _bond and _le_secure."""

    # ---- secrets and passkeys (the application keeps the bonds) -----------------------
    def _secret_get(self, sec_type, index, key):
        if key is None:
            r = self._fire(_stack.IRQ_GET_SECRET, (sec_type, index, None))
        else:
            kv, kb = _view(key)
            r = self._fire(_stack.IRQ_GET_SECRET, (sec_type, index, kv), (kb,))
        return None if r is None else bytes(r)

    def _secret_set(self, sec_type, key, value):
        kv, kb = _view(key)
        if value is None:
            return bool(self._fire(_stack.IRQ_SET_SECRET, (sec_type, kv, None), (kb,)))
        vv, vb = _view(value)
        return bool(self._fire(_stack.IRQ_SET_SECRET, (sec_type, kv, vv), (kb, vb)))

    def _passkey_request(self, conn_handle, action, passkey):
        fut = self._loop.create_future()
        old = self._passkeys.pop((conn_handle, action), None)
        if old is not None and not old.done():
            old.cancel()
        self._passkeys[(conn_handle, action)] = fut
        self._fire(_stack.IRQ_PASSKEY_ACTION, (conn_handle, action, passkey))
        return fut

    def _pairing_config(self, connection):
        from bumble import pairing
        cfg = pairing.PairingConfig(
            sc=True, mitm=self._mitm, bonding=self._bond,
            delegate=_stack.IrqDelegate(self, connection.handle,
                                        _IO_CAPABILITIES[self._io]))
        cfg.sc_only = self._le_secure  # read by SecureSession
        return cfg

    # ---- GAP -------------------------------------------------------------------------
    def gap_advertise(self, interval_us, adv_data=None, *, resp_data=None, connectable=True):
        self._need_active()
        if interval_us is None:
            self._advertising = False
            self.adv_interval_us = 0
            self._ops.post("stop advertising", self._device.stop_advertising)
            return
        units = int(interval_us) // 625
        if units < 0x20 or units > 0x4000:
            raise OSError(errno.EINVAL, "advertising interval must be 20 ms..10.24 s")
        if adv_data is not None:
            self._adv_data = bytes(adv_data)
        if resp_data is not None:
            self._resp_data = bytes(resp_data)
        if len(self._adv_data) > 31 or len(self._resp_data) > 31:
            raise OSError(errno.EINVAL, "advertising data longer than 31 bytes")
        kind = AdvertisingType.UNDIRECTED_CONNECTABLE_SCANNABLE if connectable else (
            AdvertisingType.UNDIRECTED_SCANNABLE if self._resp_data
            else AdvertisingType.UNDIRECTED)
        ms = units * 0.625
        adv, resp = self._adv_data, self._resp_data
        self._advertising = True
        self.adv_interval_us = units * 625

        async def start():
            await self._device.start_advertising(
                advertising_type=kind, own_address_type=hci.OwnAddressType.RANDOM,
                advertising_data=adv, scan_response_data=resp,
                advertising_interval_min=ms, advertising_interval_max=ms)
        self._ops.post("advertise", start)

    def gap_disconnect(self, conn_handle):
        self._need_active()
        st = self._conns.get(conn_handle)
        if st is None:
            return False
        self._ops.post("disconnect", lambda: st.c.disconnect())
        return True

    def gap_pair(self, conn_handle):
        self._need_active()
        c = self._conn(conn_handle)
        if c.role == hci.Role.PERIPHERAL:
            self._ops.post("security request", self._async(lambda: c.request_pairing()))
        else:
            self._ops.post("pair", c.pair)

    def gap_passkey(self, conn_handle, action, passkey):
        self._need_active()
        fut = self._passkeys.pop((conn_handle, action), None)
        if fut is None or fut.done():
            raise OSError(errno.EINVAL, "no passkey request %d pending on connection %d"
                          % (action, conn_handle))
        fut.set_result(passkey)

    def gattc_exchange_mtu(self, conn_handle):
        self._need_active()
        c = self._conn(conn_handle)
        mtu = self._mtu
        self._ops.post("MTU exchange", lambda: c.gatt_client.request_mtu(mtu))

    @staticmethod
    def _async(fn):
        async def run():
            fn()
        return run

    def _conn(self, conn_handle):
        st = self._conns.get(conn_handle)
        if st is None:
            raise OSError(errno.ENOTCONN, "no connection %r" % (conn_handle,))
        return st.c

    # ---- connection events -------------------------------------------------------------
    def _on_connection(self, c):
        st = _Conn(c)
        self._conns[c.handle] = st
        h = c.handle
        if c.role == hci.Role.PERIPHERAL:
            self._advertising = False  # a connection ends legacy advertising
            self.adv_interval_us = 0
        c.on(c.EVENT_DISCONNECTION, lambda reason: self._on_disconnection(c))
        c.on(c.EVENT_CONNECTION_ATT_MTU_UPDATE,
             lambda: self._fire(_IRQ_MTU_EXCHANGED, (h, c.att_mtu)))
        c.on(c.EVENT_CONNECTION_ENCRYPTION_CHANGE, lambda: self._on_encryption(c))
        c.on(c.EVENT_PAIRING_START, lambda: setattr(st, "pairing", True))
        c.on(c.EVENT_PAIRING, lambda keys: self._on_pairing(c, keys))
        c.on(c.EVENT_PAIRING_FAILURE, lambda reason: self._on_pairing_failure(c))
        c.on(c.EVENT_CONNECTION_PARAMETERS_UPDATE, lambda: self._fire(
            _IRQ_CONNECTION_UPDATE, (h, round(c.parameters.connection_interval / 1.25),
                                     c.parameters.peripheral_latency,
                                     round(c.parameters.supervision_timeout / 10), 0)))
        addr_type, addr = _addr(c.peer_address)
        v, b = _view(addr)
        self._fire(_IRQ_CENTRAL_CONNECT if c.role == hci.Role.PERIPHERAL else 7,
                   (h, addr_type, v), (b,))

    def _on_disconnection(self, c):
        st = self._conns.pop(c.handle, None)
        if st is None:
            return
        for (h, action), fut in list(self._passkeys.items()):
            if h == c.handle:
                fut.cancel()
                del self._passkeys[(h, action)]
        addr_type, addr = _addr(c.peer_address)
        v, b = _view(addr)
        self._fire(_IRQ_CENTRAL_DISCONNECT if c.role == hci.Role.PERIPHERAL else 8,
                   (c.handle, addr_type, v), (b,))

    def _stored_keys(self, address):
        v = self._secret_get(_stack.SEC_TYPE_PEER, 0, _stack.record_key(address))
        if v is None:
            return None
        got = self._device.keystore._decode(v)
        return got[1] if got else None

    def _on_encryption(self, c):
        st = self._conns.get(c.handle)
        if st is None or st.pairing:
            return  # reported when pairing ends, as NimBLE does
        keys = self._stored_keys(c.peer_address)
        auth = bool(keys and keys.ltk and keys.ltk.authenticated)
        self._fire(_IRQ_ENCRYPTION_UPDATE, (c.handle, bool(c.is_encrypted), auth,
                                            keys is not None, _key_size(c)))

    def _on_pairing(self, c, keys):
        st = self._conns.get(c.handle)
        if st is None:
            return
        st.pairing = False
        # bonded: both sides asked for it and the application kept the keys
        bonded = bool(getattr(c, "bonded_by_pairing", False)) and \
            self._stored_keys(c.peer_address) is not None
        auth = bool(keys.ltk and keys.ltk.authenticated)
        self._fire(_IRQ_ENCRYPTION_UPDATE, (c.handle, bool(c.is_encrypted), auth, bonded,
                                            _key_size(c)))

    def _on_pairing_failure(self, c):
        st = self._conns.get(c.handle)
        if st is None:
            return
        st.pairing = False
        self._fire(_IRQ_ENCRYPTION_UPDATE, (c.handle, bool(c.is_encrypted), False, False,
                                            _key_size(c)))

    def _on_missing_ltk(self, handle):
        self._fire(_IRQ_ENCRYPTION_UPDATE, (handle, False, False, False, 0))

    def _install_ltk_hook(self):
        d = self._device
        if d._host is None or getattr(d._host, "_mirror_ltk_hook", False):
            return

        async def ltk(handle, rand, ediv):
            key = await d.get_long_term_key(handle, rand, ediv)
            if key is None:
                self._on_missing_ltk(handle)
            return key
        d.host.long_term_key_provider = ltk
        d._host._mirror_ltk_hook = True


_IO_CAPABILITIES = (
    _stack.pairing.PairingDelegate.IoCapability.DISPLAY_OUTPUT_ONLY,
    _stack.pairing.PairingDelegate.IoCapability.DISPLAY_OUTPUT_AND_YES_NO_INPUT,
    _stack.pairing.PairingDelegate.IoCapability.KEYBOARD_INPUT_ONLY,
    _stack.pairing.PairingDelegate.IoCapability.NO_OUTPUT_NO_INPUT,
    _stack.pairing.PairingDelegate.IoCapability.DISPLAY_OUTPUT_AND_KEYBOARD_INPUT,
)


def _key_size(c):
    """The encryption key size (bumble's virtual controller does not report it; its
    pairing always negotiates 16 bytes)."""
    if not c.is_encrypted:
        return 0
    return c.encryption_key_size or 16
