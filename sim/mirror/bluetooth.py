"""Mirror of MicroPython's low-level `bluetooth` module (peripheral role), on bumble.

`bluetooth.BLE()` returns the one BLE object of the simulated board, which the
simulator's radio creates (`sim.radio.Radio.glasses_ble`); without a radio it raises
OSError(ENODEV). The API, IRQ codes and argument tuples follow MicroPython's documentation
(docs.micropython.org/en/latest/library/bluetooth.html) and what its NimBLE port does:

- IRQ handlers run in the simulator's loop, like MicroPython's scheduled BLE IRQs; `addr`,
  `key` and `value` arrive as read-only memoryviews that are cleared when the handler
  returns (copy them with bytes(), as on a board). After each IRQ the firmware driver is
  kicked so a task waiting on a Flag runs.
- gatts_notify/gatts_indicate send regardless of subscriptions, truncate to ATT MTU - 3,
  raise OSError(ENOTCONN) on a dead connection and OSError(ENOMEM) when `tx_buffers`
  packets are still waiting for air time (NimBLE's mbuf pool): the caller retries later.
- Remote writes are cut to the attribute's buffer (20 bytes unless gatts_set_buffer or
  gatts_write made it larger), as MicroPython does.
- Bond keys go through _IRQ_GET_SECRET / _IRQ_SET_SECRET (see _ble_stack.py).
- NimBLE's Generic Access (0x1800) and Generic Attribute (0x1801, with Service Changed)
  services exist before the application's own.
- Not mirrored: the central role (gap_scan, gap_connect, gattc_* except
  gattc_exchange_mtu), L2CAP channels, addr_mode other than 1 (random static; the
  simulated controller has no public address).
- One choice beyond NimBLE's defaults: the CCCD of a characteristic flagged
  *_ENCRYPTED refuses writes over an unencrypted link (the spec lets a server require
  security there), so an unbonded central cannot even subscribe.
"""
from __future__ import annotations

import errno
import sys

from bumble import gatt, hci
from bumble.device import AdvertisingType, Device, DeviceConfiguration
from bumble.host import Host

from sim.mirror import _ble_stack as _stack
from sim.mirror._ble_gatts import (  # noqa: F401  (the module's API)
    FLAG_AUTHENTICATED_SIGNED_WRITE, FLAG_AUX_WRITE, FLAG_BROADCAST, FLAG_INDICATE, FLAG_NOTIFY,
    FLAG_READ, FLAG_READ_AUTHENTICATED, FLAG_READ_AUTHORIZED, FLAG_READ_ENCRYPTED, FLAG_WRITE,
    FLAG_WRITE_AUTHENTICATED, FLAG_WRITE_AUTHORIZED, FLAG_WRITE_ENCRYPTED,
    FLAG_WRITE_NO_RESPONSE, UUID, GattsMixin)
from host_tools.micropython_standin import print_exception

_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_MTU_EXCHANGED = 21
_IRQ_CONNECTION_UPDATE = 27
_IRQ_ENCRYPTION_UPDATE = 28

_DEFAULT_NAME = b"MPY NIMBLE"
_DEFAULT_MTU = 256  # MicroPython's NimBLE preferred ATT MTU

_instance = None


def attach(loop, controller, address, kick=None, tx_buffers=24, transport=None):
    """Create the board's BLE object on `controller` (a virtual controller on the
    simulator's link) and make it what BLE() returns. Called by sim.radio."""
    global _instance
    _instance = BLE._create(loop, controller, address, kick, tx_buffers, transport)
    return _instance


def detach():
    global _instance
    _instance = None


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


class BLE(GattsMixin):
    def __new__(cls, *args):
        if args:
            raise TypeError("BLE() takes no arguments")
        if _instance is None:
            raise OSError(errno.ENODEV, "no Bluetooth radio: the simulator has not "
                                        "attached one (sim.radio.Radio.glasses_ble)")
        return _instance

    @classmethod
    def _create(cls, loop, controller, address, kick, tx_buffers, transport):
        self = object.__new__(cls)
        self._loop = loop
        self._kick = kick
        self.tx_buffers = tx_buffers
        self._ops = _stack.OpQueue(loop)
        self._handler = None
        self._active = False
        self._name = _DEFAULT_NAME
        self._mtu = _DEFAULT_MTU
        self._rxbuf = 1024
        self._bond = False
        self._mitm = False
        self._le_secure = False
        self._io = 3  # NoInputNoOutput
        self._address = address
        self._attrs = {}
        self._conns = {}
        self._passkeys = {}
        self._advertising = False
        self._adv_data = b""
        self._resp_data = b""
        self.adv_interval_us = 0  # of the advertising in progress (0: none)
        self.notify_truncated = 0
        self._transport_spec = transport
        cfg = DeviceConfiguration()
        cfg.name = _DEFAULT_NAME.decode()
        cfg.address = address
        cfg.irk = (bytes(address) * 3)[:16]
        self._device = d = Device(config=cfg)
        if controller is not None:
            from bumble.transport.common import AsyncPipeSink
            d.host = Host(controller, AsyncPipeSink(controller))
        d.keystore = _stack.IrqKeyStore(self)
        d.smp_manager = _stack.BondingManager(d, self._pairing_config)
        d.smp_manager.session_proxy = _stack.SecureSession
        d.on(d.EVENT_CONNECTION, self._on_connection)
        self._new_gatt_server()
        return self

    async def open_transport(self):
        """With a real controller (transport="usb:0"): open it. Not needed otherwise."""
        from bumble.transport import open_transport
        t = await open_transport(self._transport_spec)
        self._device.host = Host(t.source, t.sink)
        self._install_ltk_hook()
        return t

    # ---- IRQs ------------------------------------------------------------------------
    def irq(self, handler):
        self._handler = handler

    def _fire(self, event, data, views=()):
        h = self._handler
        r = None
        if h is not None:
            try:
                r = h(event, data)
            except Exception as e:
                print("bluetooth: exception in IRQ handler (event %d):" % event,
                      file=sys.stderr)
                print_exception(e, sys.stderr)
            finally:
                for buf in views:
                    buf[:] = bytes(len(buf))
        if self._kick is not None:
            self._kick()
        return r

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

    # ---- configuration ---------------------------------------------------------------
    def active(self, *args):
        if len(args) > 1:
            raise TypeError("active() takes at most 1 argument")
        if args:
            on = bool(args[0])
            if on and not self._active:
                self._active = True
                self._ops.post("activate", self._device.power_on)
            elif not on and self._active:
                self._active = False
                self._advertising = False
                self.adv_interval_us = 0
                for c in list(self._conns.values()):
                    self._ops.post("disconnect", lambda c=c: c.c.disconnect())
                self._ops.post("deactivate", self._device.stop_advertising)
        return self._active

    def config(self, *args, **kwargs):
        if args and kwargs:
            raise TypeError("config() takes one parameter name or keyword arguments")
        if args:
            if len(args) != 1:
                raise TypeError("must query one param")
            return self._config_get(args[0])
        for k, v in kwargs.items():
            self._config_set(k, v)
        return None

    def _config_get(self, name):
        if name == "mac":
            self._need_active()
            return _addr(self._address)
        if name == "addr_mode":
            return 1
        if name == "gap_name":
            return self._name
        if name == "mtu":
            return self._mtu
        if name == "rxbuf":
            return self._rxbuf
        if name in ("bond", "mitm", "le_secure", "io"):
            return getattr(self, "_" + name)
        raise ValueError("unknown config param")

    def _config_set(self, name, v):
        if name == "addr_mode":
            if v != 1:
                raise OSError(errno.EINVAL, "addr_mode %r: the simulated controller has only a "
                                            "random static address (mode 1)" % (v,))
        elif name == "gap_name":
            self._name = v.encode() if isinstance(v, str) else bytes(v)
            self._device.name = self._name.decode("utf-8", "replace")
            gap = self._device.gatt_server.get_characteristic_attributes(
                gatt.GATT_GENERIC_ACCESS_SERVICE, gatt.GATT_DEVICE_NAME_CHARACTERISTIC)
            if gap is not None:
                gap[1].value = self._name
        elif name == "mtu":
            if not 23 <= v <= 517:
                raise OSError(errno.EINVAL, "mtu must be 23..517")
            self._mtu = v
            self._device.gatt_server.max_mtu = v
        elif name == "rxbuf":
            self._rxbuf = int(v)
        elif name in ("bond", "mitm", "le_secure"):
            setattr(self, "_" + name, bool(v))
        elif name == "io":
            if not 0 <= v <= 4:
                raise ValueError("io capability must be 0..4")
            self._io = v
        else:
            raise ValueError("unknown config param")

    def _need_active(self):
        if not self._active:
            raise OSError(errno.ENODEV, "BLE is not active")

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
        v = self._secret_get(_stack.SEC_TYPE_PEER, 0, str(address).encode())
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
