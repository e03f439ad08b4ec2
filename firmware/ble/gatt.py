# The glasses' GATT peripheral, on MicroPython's low-level `bluetooth` API.
#
# Services (db.py): Device Information, Battery (notified on change once the link is
# encrypted), and the link service with RX (write / write without response) and TX
# (notify).
#
# Security: LE Secure Connections with bonding; Just Works, because the glasses have no
# display or keypad to compare or enter a passkey (see docs/radio.md for what MITM
# protection would take). The link service is for bonded, encrypted peers only: its
# characteristics carry the *_ENCRYPTED flags, RX writes from any other peer are dropped
# and counted, and nothing is notified before the link is encrypted. Bonds live on the
# glasses' flash (firmware/ble/bonds.py) through _IRQ_GET_SECRET / _IRQ_SET_SECRET.
#
# Interrupts: the IRQ handler copies what it needs into a bounded ring (ring.py) and sets
# a Flag; `run()` (a scheduler task) does the work. Only the secret IRQs answer at once (the
# stack waits for their return value), from RAM.
#
# TX: send(frame) -> True, or False when the link is not ready (counted in tx_refused)
# or the stack's buffers are full (ENOMEM, counted in tx_full): the caller keeps the
# frame and tries again when `writable` is set. The stack has no "room again" event, so
# while full, run() sets `writable` every TX_RETRY_MS to say "try again".
#
# MicroPython 1.27 has no call for a peripheral to request connection parameters; the
# glasses state the interval they prefer in the scan response (AD type 0x12) and report
# what the central chose (_IRQ_CONNECTION_UPDATE). They ask for an ATT MTU of `mtu`
# (247: one 251-byte LL packet per notification) right after connecting.
import errno

from micropython import const

from firmware.ble import adv, db
from firmware.ble.bonds import BondStore
from firmware.ble.ring import (E_CONN_UPDATE, E_CONNECT, E_DISCONNECT, E_ENCRYPTION, E_MTU,
                               E_PASSKEY, E_WRITE, EventRing)
from firmware.runtime.sync import Event, Flag

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_GATTS_READ_REQUEST = const(4)
_IRQ_GATTS_INDICATE_DONE = const(20)
_IRQ_MTU_EXCHANGED = const(21)
_IRQ_CONNECTION_UPDATE = const(27)
_IRQ_ENCRYPTION_UPDATE = const(28)
_IRQ_GET_SECRET = const(29)
_IRQ_SET_SECRET = const(30)
_IRQ_PASSKEY_ACTION = const(31)

_IO_NO_INPUT_OUTPUT = const(3)
_PASSKEY_ACTION_NUMERIC_COMPARISON = const(4)
_ADDR_MODE_RANDOM = const(1)

# Advertising: (interval_us, duration_ms); duration 0 means until a central connects.
# Fast right after boot or a disconnect, so a phone finds the glasses at once, then slow
# to save power (intervals from Apple's accessory design guidelines).
ADV_PHASES = ((20000, 30000), (1022500, 0))
PREFERRED_INTERVAL_MS = (15, 30)
TX_RETRY_MS = const(5)
BOND_SAVE_RETRY_MS = const(1000)


class GattPeripheral:
    def __init__(self, ble, sched, store, name, model, firmware_version, serial,
                 manufacturer="Open Glasses", on_frame=None, max_bonds=4,
                 adv_phases=ADV_PHASES, mtu=247, ring_size=32, log=None):
        self._ble = ble
        self._clock = sched.clock
        self.name = name
        self.model = model
        self.firmware_version = firmware_version
        self.serial = db.hex_serial(serial)
        self.manufacturer = manufacturer
        self.on_frame = on_frame  # on_frame(bytes) for every RX write of a bonded peer
        self.on_link = None  # on_link(up): a bonded peer on an encrypted link came / went
        self.on_writable = None  # on_writable(): send() may succeed again
        self.on_connection = None  # on_connection(up): a central connected / went away
        self.adv_phases = adv_phases
        self.want_mtu = mtu
        self.log = log
        self.bonds = BondStore(store, max_bonds)
        self.flag = Flag(sched)
        self.writable = Event()  # set: send() may succeed now
        # link state
        self.conn = -1
        self.connected = False
        self.encrypted = False
        self.authenticated = False
        self.bonded = False
        self.mtu = 23
        self.peer = None  # (addr_type, address bytes) of the central
        self.conn_interval_us = 0
        self.supervision_timeout_ms = 0
        self.battery = -1
        self.adv_phase = -1  # index in adv_phases, -1 while not advertising
        self.adv_interval_us = 0
        self._adv_deadline = None
        self._tx_blocked = False
        self._tx_retry_at = 0
        self._started = False
        self._handles = None
        # counters
        self.connects = 0
        self.disconnects = 0
        self.rx_frames = 0
        self.rx_bytes = 0
        self.rx_refused = 0
        self.rx_errors = 0
        self.tx_frames = 0
        self.tx_bytes = 0
        self.tx_full = 0
        self.tx_refused = 0
        self.adv_starts = 0
        self.encryption_failures = 0
        self._ring = EventRing(ring_size)  # preallocated: the IRQ handler writes here

    # ---- state -------------------------------------------------------------------------
    @property
    def authorised(self):
        """A bonded peer on an encrypted link: the link service is open."""
        return self.connected and self.encrypted and self.bonded

    def stats(self):
        return {
            "connects": self.connects, "disconnects": self.disconnects,
            "rx_frames": self.rx_frames, "rx_bytes": self.rx_bytes,
            "rx_refused": self.rx_refused, "rx_errors": self.rx_errors,
            "tx_frames": self.tx_frames, "tx_bytes": self.tx_bytes,
            "tx_full": self.tx_full, "tx_refused": self.tx_refused,
            "irq_dropped": self._ring.dropped, "adv_starts": self.adv_starts,
            "encryption_failures": self.encryption_failures,
            "bonds": self.bonds.count(), "bonds_evicted": self.bonds.evicted,
        }

    @property
    def irq_dropped(self):
        """Radio events lost because the ring was full."""
        return self._ring.dropped

    # ---- interrupt side: record and wake -------------------------------------------------
    def _irq(self, event, data):
        push = self._ring.push
        if event == _IRQ_GET_SECRET:
            return self.bonds.get(data[0], data[1], data[2])
        if event == _IRQ_SET_SECRET:
            ok = self.bonds.set(data[0], data[1], data[2])
            self.flag.set()  # run() saves to flash
            return ok
        if event == _IRQ_GATTS_READ_REQUEST:
            return 0  # the stack already enforces the encrypted-only flags
        if event == _IRQ_GATTS_WRITE:
            conn, handle = data
            push(E_WRITE, conn, handle, 0, self._ble.gatts_read(handle))
        elif event == _IRQ_CENTRAL_CONNECT:
            conn, addr_type, addr = data
            push(E_CONNECT, conn, addr_type, 0, bytes(addr))
        elif event == _IRQ_CENTRAL_DISCONNECT:
            push(E_DISCONNECT, data[0], 0, 0, None)
        elif event == _IRQ_MTU_EXCHANGED:
            push(E_MTU, data[0], data[1], 0, None)
        elif event == _IRQ_ENCRYPTION_UPDATE:
            conn, enc, auth, bonded, key_size = data
            push(E_ENCRYPTION, conn,
                 (1 if enc else 0) | (2 if auth else 0) | (4 if bonded else 0), key_size, None)
        elif event == _IRQ_CONNECTION_UPDATE:
            conn, interval, latency, timeout, status = data
            push(E_CONN_UPDATE, conn, interval, timeout, None)
        elif event == _IRQ_PASSKEY_ACTION:
            push(E_PASSKEY, data[0], data[1], 0, None)
        else:
            return None  # e.g. _IRQ_GATTS_INDICATE_DONE: nothing to do
        self.flag.set()
        return None

    # ---- task side ------------------------------------------------------------------------
    def start(self):
        """Bring the radio up, register the services, advertise. run() calls this."""
        if self._started:
            return
        ble = self._ble
        ble.irq(self._irq)
        ble.config(gap_name=self.name, mtu=self.want_mtu, bond=True, le_secure=True,
                   mitm=False, io=_IO_NO_INPUT_OUTPUT)
        ble.active(True)
        ble.config(addr_mode=_ADDR_MODE_RANDOM)
        self._handles = db.register(ble, self.manufacturer, self.model, self.serial,
                                    self.firmware_version, self.battery, self.want_mtu - 3)
        self._adv_data = adv.advertising_data()
        self._resp_data = adv.scan_response(self.name, interval_ms=PREFERRED_INTERVAL_MS)
        self._started = True
        self._advertise(0)

    async def run(self):
        self.start()
        while True:
            await self.flag.wait(self._wait_ms())
            self._drain()
            self._housekeeping()

    def _wait_ms(self):
        w = -1
        c = self._clock
        if self._tx_blocked and self.authorised:
            w = c.ticks_diff(self._tx_retry_at, c.ticks_ms())
            w = w if w > 0 else 0
        if self._adv_deadline is not None:
            d = c.ticks_diff(self._adv_deadline, c.ticks_ms())
            d = d if d > 0 else 0
            w = d if w < 0 or d < w else w
        if self.bonds.dirty and (w < 0 or w > BOND_SAVE_RETRY_MS):
            w = BOND_SAVE_RETRY_MS
        return w

    def _housekeeping(self):
        if self.bonds.dirty and not self.bonds.save() and self.log is not None:
            self.log.error("bonds: flash refused the write", self.bonds.save_errors)
        if self._adv_deadline is not None and not self.connected:
            c = self._clock
            if c.ticks_diff(c.ticks_ms(), self._adv_deadline) >= 0:
                self._advertise(self.adv_phase + 1)
        if self._tx_blocked and self.authorised:
            c = self._clock
            if c.ticks_diff(c.ticks_ms(), self._tx_retry_at) >= 0:
                self._tx_blocked = False
                self._set_writable()  # room may have returned: the caller tries again

    def _advertise(self, phase):
        if phase >= len(self.adv_phases):
            phase = len(self.adv_phases) - 1
        interval_us, duration_ms = self.adv_phases[phase]
        self._ble.gap_advertise(interval_us, self._adv_data, resp_data=self._resp_data)
        self.adv_phase = phase
        self.adv_interval_us = interval_us
        self.adv_starts += 1
        c = self._clock
        self._adv_deadline = c.ticks_add(c.ticks_ms(), duration_ms) if duration_ms else None

    def _drain(self):
        ring = self._ring
        while ring.count:
            ev, conn, a, b, d = ring.pop()
            if ev == E_WRITE:
                self._on_write(conn, a, d)
            elif ev == E_CONNECT:
                self._on_connect(conn, a, d)
            elif ev == E_DISCONNECT:
                self._on_disconnect(conn)
            elif conn != self.conn:
                continue  # about a connection that is gone
            elif ev == E_MTU:
                self.mtu = a
            elif ev == E_ENCRYPTION:
                self._on_encryption(a)
            elif ev == E_CONN_UPDATE:
                self.conn_interval_us = a * 1250
                self.supervision_timeout_ms = b * 10
            elif ev == E_PASSKEY:
                # Just Works never asks; refuse anything else rather than guess.
                if a == _PASSKEY_ACTION_NUMERIC_COMPARISON:
                    self._ble.gap_passkey(conn, a, 0)

    def _on_connect(self, conn, addr_type, addr):
        if self.connected:
            self._ble.gap_disconnect(conn)  # one central at a time
            return
        self.conn = conn
        self.connected = True
        self.encrypted = self.authenticated = self.bonded = False
        self.mtu = 23
        self.peer = (addr_type, addr)
        self.adv_phase = -1  # the stack stops advertising on a connection
        self.adv_interval_us = 0
        self._adv_deadline = None
        self.connects += 1
        self.writable.clear()
        if self.on_connection is not None:
            self.on_connection(True)
        self._ble.gattc_exchange_mtu(conn)

    def _on_disconnect(self, conn):
        if conn != self.conn:
            return
        was = self.authorised
        self.conn = -1
        self.connected = self.encrypted = self.authenticated = self.bonded = False
        self.peer = None
        self.mtu = 23
        self.conn_interval_us = 0
        self._tx_blocked = False
        self.disconnects += 1
        self.writable.clear()
        if self.on_connection is not None:
            self.on_connection(False)
        self._advertise(0)
        self._link_changed(was)

    def _on_encryption(self, bits):
        was = self.authorised
        self.encrypted = bool(bits & 1)
        self.authenticated = bool(bits & 2)
        self.bonded = bool(bits & 4)
        if not self.encrypted:
            self.encryption_failures += 1
        if self.authorised:
            self._set_writable()
        else:
            self.writable.clear()
        self._link_changed(was)

    def _set_writable(self):
        self.writable.set()
        if self.on_writable is not None:
            self.on_writable()

    def _link_changed(self, was):
        now = self.authorised
        if now != was and self.on_link is not None:
            self.on_link(now)

    def _on_write(self, conn, handle, data):
        if self._handles is None or handle != self._handles[0]:
            return
        if conn != self.conn or not self.authorised:
            self.rx_refused += 1
            return
        self.rx_frames += 1
        self.rx_bytes += len(data)
        if self.on_frame is not None:
            try:
                self.on_frame(data)
            except Exception as e:  # a bad frame must not stop the link
                self.rx_errors += 1
                if self.log is not None:
                    self.log.error("on_frame failed", type(e).__name__, e)

    # ---- API for the session layer -----------------------------------------------------
    def send(self, frame):
        """Notify one frame on TX. True if the stack took it; False if the link is not
        ready (no bonded, encrypted peer) or the stack is full: keep the frame, wait for
        `writable`, and send it again."""
        if not self.authorised:
            self.tx_refused += 1
            return False
        if len(frame) > self.mtu - 3:
            raise ValueError("frame of %d bytes exceeds ATT MTU %d - 3" % (len(frame), self.mtu))
        try:
            self._ble.gatts_notify(self.conn, self._handles[1], frame)
        except OSError as e:
            if e.args[0] == errno.ENOMEM:
                self.tx_full += 1
                if not self._tx_blocked:
                    self._tx_blocked = True
                    c = self._clock
                    self._tx_retry_at = c.ticks_add(c.ticks_ms(), TX_RETRY_MS)
                    self.flag.set()  # run() sets `writable` again in TX_RETRY_MS
                self.writable.clear()
                return False
            if e.args[0] == errno.ENOTCONN:
                self.tx_refused += 1  # the disconnect IRQ is on its way
                return False
            raise
        self.tx_frames += 1
        self.tx_bytes += len(frame)
        return True

    def set_battery(self, pct):
        """The fuel gauge's state of charge (0..100). Readable by anyone; notified to a
        subscribed peer when it changes, once the link is encrypted."""
        pct = 0 if pct < 0 else (100 if pct > 100 else int(pct))
        if pct == self.battery:
            return False
        self.battery = pct
        if self._handles is not None:
            self._ble.gatts_write(self._handles[2], bytes((pct,)),
                                  self.connected and self.encrypted)
        return True

    def forget_bonds(self):
        """Forget every bonded phone (the `forget` command, a button gesture). A bonded
        phone that is connected now is disconnected."""
        was = self.authorised
        self.bonds.clear()
        self.bonds.save()
        if self.connected and self.bonded:
            self._ble.gap_disconnect(self.conn)
        self.bonded = False
        self.writable.clear()
        self._link_changed(was)

    def disconnect(self):
        if self.connected:
            return self._ble.gap_disconnect(self.conn)
        return False
