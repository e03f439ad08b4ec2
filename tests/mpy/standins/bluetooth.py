# MicroPython's low-level `bluetooth` API (BLE, UUID), cut to what the glasses' GATT
# peripheral uses, with the phone (fwboot/phone.py: the same firmware/protocol code on the
# host's side) at the other end of an in-process radio. The unix port and the WebAssembly
# build have no `bluetooth` module; this file stands in for it there.
#
# The radio: while connected, a connection event every CONN_INTERVAL_US moves up to
# PER_EVENT notifications to the phone and PER_EVENT writes to the glasses (each a
# _IRQ_GATTS_WRITE). gatts_notify raises OSError(ENOMEM) when QUEUE notifications wait,
# as NimBLE does when its buffers are full. Pairing is Just Works, as the phone's OS does
# it: the keys arrive by _IRQ_SET_SECRET, then _IRQ_ENCRYPTION_UPDATE.
from world import W, Every, WorldError

FLAG_READ = 0x0002
FLAG_WRITE_NO_RESPONSE = 0x0004
FLAG_WRITE = 0x0008
FLAG_NOTIFY = 0x0010

_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_GATTS_WRITE = 3
_IRQ_MTU_EXCHANGED = 21
_IRQ_ENCRYPTION_UPDATE = 28
_IRQ_SET_SECRET = 30
_ENOMEM = 12
_ENOTCONN = 107

CONN_INTERVAL_US = 15000
PER_EVENT = 6
QUEUE = 12
CONN = 64  # the connection handle NimBLE gives the first central
PHONE_ADDR = b"\xc4\x11\x22\x33\x44\x55"


class UUID:
    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, UUID) and other.value == self.value

    def __hash__(self):
        return hash(self.value)


def BLE():
    """The one radio (bluetooth.BLE() returns the same object every time)."""
    if W.ble is None:
        W.ble = _Ble()
    return W.ble


class _Ble:
    def __init__(self):
        self.handler = None
        self.on = False
        self.values = {}  # handle -> bytes
        self.next_handle = 1
        self.rx = -1  # the handle of the link service's RX (its first characteristic)
        self.tx = -1
        self.advertising = False
        self.conn = -1
        self.mtu = 23
        self.to_phone = []  # notifications not yet moved by a connection event
        self.notified = 0
        self.written = 0
        self.radio = None

    # ---- the API the firmware calls -----------------------------------------------------
    def irq(self, handler):
        self.handler = handler

    def active(self, on=None):
        if on is None:
            return self.on
        self.on = bool(on)
        return None

    def config(self, *names, **settings):
        if names:
            if names[0] == "mac":
                return (1, b"\xf2\x00\x00\x00\x12\x34")
            if names[0] == "mtu":
                return self.mtu
            raise ValueError("unknown config param")
        return None

    def gatts_register_services(self, services):
        out = []
        for _uuid, chars in services:
            hs = []
            for _ch in chars:
                hs.append(self.next_handle)
                self.values[self.next_handle] = b""
                self.next_handle += 2  # the value and its CCCD / descriptor
            out.append(tuple(hs))
        link = out[-1]  # the glasses' own service comes last (firmware/ble/db.py)
        self.rx, self.tx = link[0], link[1]
        return tuple(out)

    def gatts_write(self, handle, data, send_update=False):
        self.values[handle] = bytes(data)

    def gatts_read(self, handle):
        return self.values[handle]

    def gatts_set_buffer(self, handle, n, append=False):
        pass

    def gap_advertise(self, interval_us, adv_data=None, resp_data=None, connectable=True):
        self.advertising = interval_us is not None

    def gattc_exchange_mtu(self, conn):
        if conn == self.conn:
            self.mtu_pending = True

    def gap_passkey(self, conn, action, passkey):
        pass

    def gap_disconnect(self, conn):
        if conn != self.conn:
            return False
        self._drop()
        return True

    def gatts_notify(self, conn, handle, data=None):
        if conn != self.conn:
            raise OSError(_ENOTCONN)
        if len(self.to_phone) >= QUEUE:
            raise OSError(_ENOMEM)
        if handle == self.tx:
            if len(data) > self.mtu - 3:
                raise WorldError("a notification of %d bytes over ATT MTU %d"
                                 % (len(data), self.mtu))
            self.to_phone.append(bytes(data))
            self.notified += 1

    # ---- the phone's side ----------------------------------------------------------------
    def connect(self, phone):
        """The phone connects (if the glasses advertise) and pairs; True if it did."""
        if not self.advertising or self.conn >= 0 or self.handler is None:
            return False
        self.advertising = False
        self.conn = CONN
        self.mtu = 23
        self.mtu_pending = False
        self.to_phone = []
        self.phone = phone
        h = self.handler
        h(_IRQ_CENTRAL_CONNECT, (CONN, 0, PHONE_ADDR))
        h(_IRQ_SET_SECRET, (2, PHONE_ADDR, b"peer-ltk-0123456789abcdef"))
        h(_IRQ_SET_SECRET, (1, PHONE_ADDR, b"our-ltk-0123456789abcdef"))
        h(_IRQ_ENCRYPTION_UPDATE, (CONN, True, False, True, 16))
        self.radio = W.add(Every(CONN_INTERVAL_US, self._event, W.us + CONN_INTERVAL_US))
        return True

    def disconnect(self):
        """The phone goes out of range."""
        if self.conn < 0:
            return False
        self._drop()
        return True

    def _drop(self):
        conn = self.conn
        self.conn = -1
        self.to_phone = []
        W.remove(self.radio)
        self.radio = None
        self.phone.link_down()
        if self.handler is not None:
            self.handler(_IRQ_CENTRAL_DISCONNECT, (conn, 0, PHONE_ADDR))

    def _event(self):
        """One connection event: MTU exchange, notifications to the phone, its writes."""
        fired = False
        phone = self.phone
        h = self.handler
        if self.mtu_pending:
            self.mtu_pending = False
            self.mtu = 247
            h(_IRQ_MTU_EXCHANGED, (self.conn, self.mtu))
            phone.link_up(self.mtu)
            fired = True
        n = 0
        q = self.to_phone
        while q and n < PER_EVENT:
            phone.feed(q.pop(0))
            n += 1
        for _ in range(PER_EVENT):
            frame = phone.next_write()
            if frame is None or self.conn < 0:
                break
            self.values[self.rx] = frame
            self.written += 1
            h(_IRQ_GATTS_WRITE, (self.conn, self.rx))
            fired = True
        phone.poll()
        return fired
