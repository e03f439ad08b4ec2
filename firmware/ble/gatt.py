# The glasses' GATT peripheral, on MicroPython's low-level `bluetooth` API.
#
# Services (db.py): Device Information, Battery (notified on change once the link is
# encrypted), and the link service with RX (write / write without response) and TX
# (notify).
#
# Security (docs/security.md): LE Secure Connections; Just Works, because the glasses have
# no display or keypad to compare or enter a passkey. Who may get in is access.py's
# decision: bonds only with the wearer's consent (the pairing window), squatters dropped.
# The link service is for authorised peers only: its characteristics carry the
# *_ENCRYPTED flags, RX writes from any other peer are dropped and counted, and nothing is
# notified before. Bonds live on the glasses' flash (bonds.py) through the secret IRQs.
# Events (firmware/runtime/observe.py): "connection" (up) here; "pairing" and "refused"
# on gatt.access.
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
# glasses state the interval they prefer in the scan response (AD type 0x12, advertiser.py)
# and report what the central chose (_IRQ_CONNECTION_UPDATE). They ask for an ATT MTU of `mtu`
# (247: one 251-byte LL packet per notification) right after connecting.
import errno

from micropython import const

from firmware.ble import db
from firmware.ble.access import (A_ADVERTISE, A_BOND_OFF, A_BOND_ON, A_DISCONNECT, A_LINK,
                                 A_PAYLOAD, Access)
from firmware.ble.advertiser import ADV_PHASES, Advertiser
from firmware.ble.bonds import BondStore
from firmware.ble.consent import Consent
from firmware.ble.ring import (E_CONN_UPDATE, E_CONNECT, E_DISCONNECT, E_ENCRYPTION, E_MTU,
                               E_PASSKEY, E_WRITE, EventRing)
from firmware.runtime.observe import Emitter
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

TX_RETRY_MS = const(5)
BOND_SAVE_RETRY_MS = const(1000)


class GattPeripheral(Emitter):
    EVENTS = ("connection",)

    def __init__(self, ble, sched, store, name, model, firmware_version, serial,
                 manufacturer="Open Glasses", on_frame=None, max_bonds=4,
                 adv_phases=ADV_PHASES, mtu=247, ring_size=32, log=None, consent=None):
        Emitter.__init__(self)
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
        self.adv = Advertiser(ble, sched.clock, name, adv_phases)
        self.want_mtu = mtu
        self.log = log
        self.bonds = BondStore(store, max_bonds)
        self.access = Access(consent or Consent(sched.clock), self.bonds, log)
        self.flag = Flag(sched)
        self.writable = Event()  # set: send() may succeed now
        # link state (who the central is and how it is secured: self.access)
        self.mtu = 23
        self.conn_interval_us = 0
        self.supervision_timeout_ms = 0
        self.battery = -1
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
        self.encryption_failures = 0
        self._ring = EventRing(ring_size)  # preallocated: the IRQ handler writes here

    # ---- state -------------------------------------------------------------------------
    # the central and how it is secured, as access.py decided (read-only views)
    authorised = property(lambda self: self.access.authorised)  # the link service is open
    connected = property(lambda self: self.access.connected)
    encrypted = property(lambda self: self.access.encrypted)
    authenticated = property(lambda self: self.access.authenticated)
    bonded = property(lambda self: self.access.bonded)
    peer_key = property(lambda self: self.access.key if self.access.authorised else None)
    adv_phase = property(lambda self: self.adv.phase)
    adv_interval_us = property(lambda self: self.adv.interval_us)
    irq_dropped = property(lambda self: self._ring.dropped)  # radio events lost: ring full

    def stats(self):
        return {
            "connects": self.connects, "disconnects": self.disconnects,
            "rx_frames": self.rx_frames, "rx_bytes": self.rx_bytes,
            "rx_refused": self.rx_refused, "rx_errors": self.rx_errors,
            "tx_frames": self.tx_frames, "tx_bytes": self.tx_bytes,
            "tx_full": self.tx_full, "tx_refused": self.tx_refused,
            "irq_dropped": self._ring.dropped, "adv_starts": self.adv.starts,
            "encryption_failures": self.encryption_failures,
            "bonds": self.bonds.count(), "bonds_evicted": self.bonds.evicted,
            "refused": self.access.consent.counts,
        }

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
        ble.config(gap_name=self.name, mtu=self.want_mtu, bond=self.access.bonding_wanted(),
                   le_secure=True, mitm=False, io=_IO_NO_INPUT_OUTPUT)
        ble.active(True)
        ble.config(addr_mode=_ADDR_MODE_RANDOM)
        self._handles = db.register(ble, self.manufacturer, self.model, self.serial,
                                    self.firmware_version, self.battery, self.want_mtu - 3)
        self.adv.payloads(self.access.window_open())
        self._started = True
        self.adv.advertise(0)

    async def run(self):
        self.start()
        while True:
            await self.flag.wait(self._wait_ms())
            self._drain()
            self._housekeeping()

    def _wait_ms(self):
        c = self._clock
        w = self.access.wait_ms(c.ticks_ms())
        if self._tx_blocked and self.authorised:
            d = c.ticks_diff(self._tx_retry_at, c.ticks_ms())
            d = d if d > 0 else 0
            w = d if w < 0 or d < w else w
        d = self.adv.wait_ms(c.ticks_ms())
        if d >= 0:
            w = d if w < 0 or d < w else w
        if self.bonds.dirty and (w < 0 or w > BOND_SAVE_RETRY_MS):
            w = BOND_SAVE_RETRY_MS
        return w

    def _housekeeping(self):
        self._act(self.access.tick(self._clock.ticks_ms()))
        if self.bonds.dirty and not self.bonds.save() and self.log is not None:
            self.log.error("bonds: flash refused the write (%d times)", self.bonds.save_errors)
        if not self.connected:
            self.adv.tick(self._clock.ticks_ms())
        if self._tx_blocked and self.authorised:
            c = self._clock
            if c.ticks_diff(c.ticks_ms(), self._tx_retry_at) >= 0:
                self._tx_blocked = False
                self._set_writable()  # room may have returned: the caller tries again

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
            elif conn != self.access.conn:
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
        acts = self.access.connect(conn, addr_type, addr)
        if self.access.conn != conn:  # a second central: one at a time
            self._ble.gap_disconnect(conn)
            return
        self.mtu = 23
        self.adv.stopped()
        self.connects += 1
        self.writable.clear()
        self.emit("connection", True)
        if acts & A_DISCONNECT:  # a central whose back-off runs: not even the MTU
            self._ble.gap_disconnect(conn)
            return
        self._ble.gattc_exchange_mtu(conn)

    def _on_disconnect(self, conn):
        acts = self.access.disconnect(conn)
        if not acts:
            return
        self.mtu = 23
        self.conn_interval_us = 0
        self._tx_blocked = False
        self.disconnects += 1
        self.writable.clear()
        self.emit("connection", False)
        self._act(acts)

    def _on_encryption(self, bits):
        enc = bool(bits & 1)
        if not enc:
            self.encryption_failures += 1
        self._act(self.access.encryption(enc, bool(bits & 2), bool(bits & 4)))

    def _act(self, acts):
        """Carry out what access.py decided."""
        if not acts:
            return
        ble = self._ble
        if acts & A_BOND_ON:
            ble.config(bond=True)
        elif acts & A_BOND_OFF:
            ble.config(bond=False)
        if acts & A_PAYLOAD and self._started:
            self.adv.payloads(self.access.window_open())
            if not self.connected:
                self.adv.advertise(0)  # the new state on air now, fast
        if acts & A_DISCONNECT and self.connected:
            ble.gap_disconnect(self.access.conn)
        if acts & A_ADVERTISE and self._started:
            self.adv.advertise(0)
        if acts & A_LINK:
            if self.authorised:
                self._set_writable()
            else:
                self.writable.clear()
            if self.on_link is not None:
                self.on_link(self.authorised)

    def _set_writable(self):
        self.writable.set()
        if self.on_writable is not None:
            self.on_writable()

    def _on_write(self, conn, handle, data):
        if self._handles is None or handle != self._handles[0]:
            return
        if conn != self.access.conn or not self.authorised:
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
                    self.log.error("a frame from the phone failed: %s: %s", type(e).__name__, e)

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
            self._ble.gatts_notify(self.access.conn, self._handles[1], frame)
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

    def forget_bonds(self, key=None):
        """Forget one phone (its bond key) or, with None, every bonded phone (the
        `forget` command, the wearer's gesture). A forgotten phone that is connected is
        disconnected."""
        self._act(self.access.forget(key))

    def open_pairing(self):
        """The wearer's gesture: take a new phone for the next consent.window_ms."""
        self._act(self.access.open_window())
        self.flag.set()  # run() times the window

    def disconnect(self):
        if self.connected:
            return self._ble.gap_disconnect(self.access.conn)
        return False
