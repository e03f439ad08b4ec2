"""Timing for the simulator's BLE link: bumble's LocalLink delivers everything at once, so
this module adds what a real LE link allows.

The model (Core spec Vol 6, Part B 4.5 "Connection state"):
- data moves only in connection events, one every connection interval from the anchor
  set at connection time (or at the last connection update);
- an event is a sequence of exchanges: the central sends one LL data PDU (empty if it has
  nothing), the peripheral answers with one (empty if nothing), T_IFS = 150 us apart; the
  event goes on while either side has more data, until the next exchange would not fit
  before the next anchor, or `packets_per_event` exchanges ran;
- an L2CAP PDU (an ATT notification of MTU bytes is MTU + 4 bytes) is cut into LL PDUs of
  at most `data_length` bytes; it reaches the peer with its last fragment;
- airtime of one PDU: preamble (1 byte on LE 1M, 2 on LE 2M) + access address 4 + header
  2 + payload + MIC 4 (encrypted, non-empty) + CRC 3, at 1 or 2 Mbit/s;
- loss: an exchange is lost with probability `packet_loss`; the link layer retransmits,
  so the PDU only moves to the next event (delay, never corruption or loss of data);
- fades: random outages (seeded, `fades_per_hour`, exponential length around
  `fade_mean_ms`) and injected ones ("walk away"); nothing moves during a fade, and one
  that lasts the supervision timeout ends the connection on both sides (reason 0x08).

Only links with data are scheduled: an idle connection costs no timer at all, so an hour
of idle-connected glasses takes no simulation work.
"""
from __future__ import annotations

import dataclasses
import math
from collections import deque

T_IFS_US = 150
_BITRATE_BYTES_PER_US = {"1M": 0.125, "2M": 0.25}
_PREAMBLE = {"1M": 1, "2M": 2}
_OVERHEAD = 4 + 2 + 3  # access address, header, CRC
_MIC = 4
L2CAP_HEADER = 4
ATT_NOTIFY_HEADER = 3


@dataclasses.dataclass(frozen=True)
class LinkSettings:
    """What the two controllers negotiated, and what the air does to them.

    interval_ms and att_mtu are negotiated by the two hosts on a live link (the model
    follows the connection's real interval); here they say which link `ceiling_bytes_per_s`
    describes."""

    interval_ms: float = 15.0
    phy: str = "2M"  # "1M" or "2M"
    data_length: int = 251  # LL payload octets per PDU (27..251)
    att_mtu: int = 247
    packets_per_event: int = 0  # most exchanges per event; 0: as many as fit
    encrypted: bool = True  # count the MIC of encrypted PDUs in airtime
    packet_loss: float = 0.0  # probability that one exchange is lost (retried next event)
    fades_per_hour: float = 0.0  # random outages (seeded)
    fade_mean_ms: float = 2000.0

    def __post_init__(self):
        if self.phy not in _PREAMBLE:
            raise ValueError("phy must be '1M' or '2M', not %r" % (self.phy,))
        if not 27 <= self.data_length <= 251:
            raise ValueError("data_length must be 27..251 octets, not %d" % self.data_length)
        if not 7.5 <= self.interval_ms <= 4000:
            raise ValueError("interval_ms must be 7.5..4000, not %s" % self.interval_ms)
        if not 23 <= self.att_mtu <= 517:
            raise ValueError("att_mtu must be 23..517, not %d" % self.att_mtu)
        if not 0 <= self.packet_loss < 1:
            raise ValueError("packet_loss must be in [0, 1)")
        if self.packets_per_event < 0 or self.fades_per_hour < 0 or self.fade_mean_ms <= 0:
            raise ValueError("packets_per_event, fades_per_hour >= 0 and fade_mean_ms > 0")

    def replace(self, **kw):
        return dataclasses.replace(self, **kw)


DEFAULT = LinkSettings()


def airtime_us(phy, payload, mic=False):
    """Microseconds on air for one LL data PDU carrying `payload` octets."""
    n = _PREAMBLE[phy] + _OVERHEAD + payload + (_MIC if mic and payload else 0)
    return n / _BITRATE_BYTES_PER_US[phy]


def exchange_us(phy, central_payload, peripheral_payload, mic=False):
    """One central packet + T_IFS + the peripheral's answer + T_IFS."""
    return (airtime_us(phy, central_payload, mic) + airtime_us(phy, peripheral_payload, mic)
            + 2 * T_IFS_US)


def fragments(length, data_length):
    """LL payload sizes one L2CAP PDU of `length` octets is cut into."""
    full, rest = divmod(length, data_length)
    return [data_length] * full + ([rest] if rest else [])


def phy_ceiling_bytes_per_s(phy="2M", data_length=251, att_mtu=247, mic=False):
    """Notification payload per second on a saturated link with no event boundaries (the
    figure usually quoted: LE 2M / 251 ~ 175 kB/s, LE 1M ~ 99 kB/s)."""
    t = sum(exchange_us(phy, 0, f, mic) for f in fragments(att_mtu + L2CAP_HEADER, data_length))
    return (att_mtu - ATT_NOTIFY_HEADER) * 1e6 / t


def ceiling_bytes_per_s(settings=DEFAULT):
    """Notification payload per second this model lets through one saturated link
    (peripheral to central) at these settings: event boundaries and packets_per_event
    included, no loss."""
    s = settings
    frags = fragments(s.att_mtu + L2CAP_HEADER, s.data_length)
    interval_us = s.interval_ms * 1000
    done = 0  # whole notifications delivered
    i = 0  # index of the next fragment within its notification
    events = 0
    while True:
        elapsed = 0.0
        n = 0
        while not (s.packets_per_event and n >= s.packets_per_event):
            dt = exchange_us(s.phy, 0, frags[i], s.encrypted)
            if elapsed + dt > interval_us:
                break
            elapsed += dt
            n += 1
            i += 1
            if i == len(frags):
                i = 0
                done += 1
        events += 1
        if n == 0:
            return 0.0
        if i == 0 or events >= 1000:
            break
    return done * (s.att_mtu - ATT_NOTIFY_HEADER) * 1e6 / (events * interval_us)


class _Sdu:
    """One L2CAP PDU on its way across a modelled connection."""

    __slots__ = ("sender", "dest", "src_addr", "data", "handle", "hci_packets", "sent")

    def __init__(self, sender, dest, src_addr, data, handle, hci_packets):
        self.sender = sender  # the sending controller
        self.dest = dest  # the receiving controller
        self.src_addr = src_addr  # the sender's address on this connection
        self.data = data
        self.handle = handle  # the sender's connection handle
        self.hci_packets = hci_packets  # HCI packets it came in (completed on delivery)
        self.sent = 0


class Connection:
    """The model of one LE connection between two controllers on the link."""

    def __init__(self, link, central, central_addr, peripheral, peripheral_addr, interval,
                 timeout, rng):
        self.link = link
        self.loop = link.loop
        self.central = central
        self.peripheral = peripheral
        self.central_addr = central_addr
        self.peripheral_addr = peripheral_addr
        self.queues = (deque(), deque())  # central->peripheral, peripheral->central
        self.rng = rng
        self.encrypted = False
        self.alive = True
        self.faded_until = 0.0
        # the end of the last event's air time: the next event starts after it, so PDUs
        # are delivered in the order they were sent (a PDU queued while an event's PDUs
        # are still on air, its buffer freed by the first of them, must not overtake them)
        self.busy_until = 0.0
        self._event = None  # TimerHandle of the next scheduled connection event
        self._timeout_handle = None
        self._fade_handle = None
        self._pending = {}  # scheduled deliveries by id(sdu)
        self.set_parameters(interval, timeout)
        # stats
        self.events = 0
        self.exchanges = 0
        self.lost_exchanges = 0
        self.bytes = [0, 0]
        self._schedule_random_fade()

    # ---- parameters ----------------------------------------------------------------
    def set_parameters(self, interval, timeout):
        """interval in 1.25 ms units, supervision timeout in 10 ms units (as on air). The
        first event follows 1.25 ms after the request (transmitWindowDelay)."""
        self.interval_s = max(interval, 6) * 0.00125
        self.timeout_s = max(timeout, 10) * 0.010
        self.anchor = self.loop.time() + 0.00125
        if self._event is not None:
            self._event.cancel()
            self._event = None
            self._schedule()

    @property
    def interval_ms(self):
        return self.interval_s * 1000

    def next_event_time(self, after):
        k = math.ceil((after - self.anchor) / self.interval_s - 1e-9)
        return self.anchor + max(k, 0) * self.interval_s

    def key(self):
        return _key(self.central_addr, self.peripheral_addr)

    # ---- data ----------------------------------------------------------------------
    def submit(self, sender, handle, data, hci_packets):
        """Queue an L2CAP PDU from `sender` (central or peripheral controller)."""
        if not self.alive:
            return
        if sender is self.central:
            sdu = _Sdu(sender, self.peripheral, self.central_addr, data, handle, hci_packets)
            self.queues[0].append(sdu)
        else:
            sdu = _Sdu(sender, self.central, self.peripheral_addr, data, handle, hci_packets)
            self.queues[1].append(sdu)
        self._schedule()

    def queued(self):
        """L2CAP PDUs waiting for air time (both directions)."""
        return len(self.queues[0]) + len(self.queues[1])

    def _schedule(self):
        if self._event is not None or not self.alive:
            return
        if not (self.queues[0] or self.queues[1]):
            return
        now = self.loop.time()
        t = self.next_event_time(max(now, self.faded_until, self.busy_until))
        self._event = self.loop.call_at(t, self._run_event)

    def _run_event(self):
        self._event = None
        if not self.alive:
            return
        now = self.loop.time()
        if now < self.faded_until:
            self._schedule()
            return
        s = self.link.settings
        dl = s.data_length
        budget_us = self.interval_s * 1e6
        mic = self.encrypted and s.encrypted
        q_c, q_p = self.queues
        elapsed = 0.0
        n = 0
        while q_c or q_p:
            if s.packets_per_event and n >= s.packets_per_event:
                break
            c = q_c[0] if q_c else None
            p = q_p[0] if q_p else None
            cs = min(dl, len(c.data) - c.sent) if c is not None else 0
            ps = min(dl, len(p.data) - p.sent) if p is not None else 0
            tc = airtime_us(s.phy, cs, mic)
            tp = airtime_us(s.phy, ps, mic)
            dt = tc + tp + 2 * T_IFS_US
            if elapsed + dt > budget_us and n > 0:
                break
            if s.packet_loss and self.rng.random() < s.packet_loss:
                self.lost_exchanges += 1  # the event closes; the PDUs go again next event
                elapsed += dt
                break
            if c is not None:
                c.sent += cs
                self.bytes[0] += cs
                if c.sent >= len(c.data):
                    q_c.popleft()
                    self._deliver_at(now + (elapsed + tc) / 1e6, c)
            if p is not None:
                p.sent += ps
                self.bytes[1] += ps
                if p.sent >= len(p.data):
                    q_p.popleft()
                    self._deliver_at(now + (elapsed + tc + T_IFS_US + tp) / 1e6, p)
            elapsed += dt
            n += 1
        self.events += 1
        self.exchanges += n
        self.busy_until = now + elapsed / 1e6
        if q_c or q_p:
            self._event = self.loop.call_at(now + self.interval_s, self._run_event)

    def _deliver_at(self, t, sdu):
        h = self.loop.call_at(t, self._deliver, sdu)
        self._pending[id(sdu)] = h

    def _deliver(self, sdu):
        self._pending.pop(id(sdu), None)
        if self.alive:
            self.link.deliver(self, sdu)

    # ---- fades and teardown --------------------------------------------------------
    def fade(self, seconds):
        """Nothing moves for `seconds`; a fade as long as the supervision timeout ends
        the connection."""
        if not self.alive:
            return
        now = self.loop.time()
        self.faded_until = max(self.faded_until, now + seconds)
        if seconds >= self.timeout_s and self._timeout_handle is None:
            self._timeout_handle = self.loop.call_at(now + self.timeout_s, self.link.drop,
                                                     self, 0x08)

    def _schedule_random_fade(self):
        s = self.link.settings
        if not s.fades_per_hour:
            return
        delay = self.rng.expovariate(s.fades_per_hour / 3600.0)
        self._fade_handle = self.loop.call_later(delay, self._random_fade)

    def _random_fade(self):
        self._fade_handle = None
        if not self.alive:
            return
        seconds = self.rng.expovariate(1000.0 / self.link.settings.fade_mean_ms)
        self.link.fades += 1
        self.fade(seconds)
        self._schedule_random_fade()

    def close(self):
        self.alive = False
        for h in (self._event, self._timeout_handle, self._fade_handle):
            if h is not None:
                h.cancel()
        self._event = self._timeout_handle = self._fade_handle = None
        for h in self._pending.values():
            h.cancel()
        self._pending.clear()
        self.queues[0].clear()
        self.queues[1].clear()


def _key(a, b):
    a, b = bytes(a), bytes(b)
    return (a, b) if a <= b else (b, a)
