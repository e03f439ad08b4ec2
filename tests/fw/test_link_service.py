# The glasses' link service (firmware/ble/link.py) on the GATT peripheral, with the
# board's BLE object replaced by a recorder (the HAL line): the session starts at the
# phone's first write, with the MTU known by then, so the glasses' hello is neither
# notified before the phone listens nor cut to 20-byte frames. Runs under CPython and
# MicroPython; the same over the real bumble stack is tests/test_link_e2e*.py.
from fwtest import temp_root, virtual_scheduler

from firmware.protocol.channels import OPEN
from firmware.ble.gatt import GattPeripheral
from firmware.ble.link import LinkService
from firmware.protocol.session import Session
from firmware.runtime.store import Store

_CONNECT = 1
_DISCONNECT = 2
_WRITE = 3
_MTU = 21
_ENCRYPTION = 28
_RX = 10
_TX = 11


class _Ble:
    """What the GATT peripheral calls on bluetooth.BLE, recorded."""

    def __init__(self):
        self.notified = []
        self.written = {}

    def gattc_exchange_mtu(self, conn):
        pass

    def gap_advertise(self, interval_us, adv_data=None, resp_data=None):
        pass

    def gatts_notify(self, conn, handle, data):
        self.notified.append(bytes(data))

    def gatts_read(self, handle):
        return self.written[handle]


def _glasses():
    sched = virtual_scheduler()
    ble = _Ble()
    gatt = GattPeripheral(ble, sched, Store(temp_root("linksvc")), "Glasses-TEST", "sim",
                          "0.1.0", b"\x01\x02")
    gatt._handles = (_RX, _TX, 12)  # what start() would have registered
    gatt._adv_data = gatt._resp_data = b""
    link = LinkService(sched, gatt, "0.1.0", "test-board", ["rpc"])
    return sched, ble, gatt, link


def _phone(clock):
    frames = []
    events = []
    s = Session("host", clock, "0.1.0", ["rpc"], lambda f: frames.append(bytes(f)),
                lambda ch, m: True, lambda k, d: events.append(k))
    return s, frames, events


def _write(gatt, ble, frame):
    ble.written[_RX] = frame
    gatt._irq(_WRITE, (0, _RX))
    gatt._drain()


def test_the_session_starts_at_the_phone_s_first_write_with_the_final_mtu():
    sched, ble, gatt, link = _glasses()
    gatt._irq(_CONNECT, (0, 1, b"\xc0\x00\x00\x00\x00\x01"))
    gatt._irq(_ENCRYPTION, (0, 1, 0, 1, 16))  # re-encrypted with the bond: authorised...
    gatt._drain()
    assert gatt.authorised
    assert link.session.state == 0 and ble.notified == []  # ...but nothing said yet
    gatt._irq(_MTU, (0, 247))  # the MTU exchange ends after the encryption
    gatt._drain()
    phone, frames, events = _phone(sched.clock)
    phone.link_up(247)
    _write(gatt, ble, frames.pop(0))  # the phone's hello
    assert link.session.state == OPEN
    assert len(ble.notified) == 1 and len(ble.notified[0]) > 20  # one whole hello frame
    phone.feed(ble.notified[0])
    assert phone.state == OPEN and events == ["open"]
    assert link.up


def test_a_disconnect_before_the_first_write_starts_nothing():
    sched, ble, gatt, link = _glasses()
    gatt._irq(_CONNECT, (0, 1, b"\xc0\x00\x00\x00\x00\x01"))
    gatt._irq(_ENCRYPTION, (0, 1, 0, 1, 16))
    gatt._irq(_DISCONNECT, (0, 1, b"\xc0\x00\x00\x00\x00\x01"))
    gatt._drain()
    assert not gatt.connected and link.session.state == 0
    phone, frames, events = _phone(sched.clock)
    phone.link_up(247)
    _write(gatt, ble, frames.pop(0))  # a write after the disconnect: refused
    assert gatt.rx_refused == 1 and link.session.state == 0 and ble.notified == []
