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

BLE is written in three parts: here its creation, IRQ dispatch and configuration; GAP
(advertising, connections, pairing and bonding) in _ble_gap.py; the GATT server in
_ble_gatts.py. The bumble side (key store, SMP, the operation queue) is _ble_stack.py.
"""
from __future__ import annotations

import errno
import sys

from bumble import gatt
from bumble.device import Device, DeviceConfiguration
from bumble.host import Host

from sim.mirror import _ble_stack as _stack
from sim.mirror._ble_gap import GapMixin, _addr
from sim.mirror._ble_gatts import (  # noqa: F401  (the module's API)
    FLAG_AUTHENTICATED_SIGNED_WRITE, FLAG_AUX_WRITE, FLAG_BROADCAST, FLAG_INDICATE, FLAG_NOTIFY,
    FLAG_READ, FLAG_READ_AUTHENTICATED, FLAG_READ_AUTHORIZED, FLAG_READ_ENCRYPTED, FLAG_WRITE,
    FLAG_WRITE_AUTHENTICATED, FLAG_WRITE_AUTHORIZED, FLAG_WRITE_ENCRYPTED,
    FLAG_WRITE_NO_RESPONSE, UUID, GattsMixin)
from host_tools.micropython_standin import print_exception

_DEFAULT_NAME = b"MPY NIMBLE"
_DEFAULT_MTU = 256  # MicroPython's NimBLE preferred ATT MTU

_instance = None


def attach(loop, controller, address, kick=None, tx_buffers=24, transport=None,
           gap_appearance=0):
    """Create the board's BLE object on `controller` (a virtual controller on the
    simulator's link) and make it what BLE() returns. Called by sim.radio.
    gap_appearance: what the board's MicroPython build serves as GAP Appearance (a NimBLE
    build setting, CONFIG_BT_NIMBLE_SVC_GAP_APPEARANCE: 0 in the stock builds)."""
    global _instance
    _instance = BLE._create(loop, controller, address, kick, tx_buffers, transport)
    _instance.gap_appearance = gap_appearance
    _instance._new_gatt_server()
    return _instance


def detach():
    global _instance
    _instance = None


class BLE(GapMixin, GattsMixin):
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
        self.gap_appearance = 0  # a build setting of the board (attach())
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

