"""The glasses' audio packets on the phone: kept by sequence number as they arrive on the
link's lossy audio channel, and put together into the PCM of one utterance when the
glasses ask about it (packets `first`..`last`).

Nothing is hidden: a packet that never came is a gap, filled with 20 ms of silence in the
PCM and counted (with where it was) in the report that goes back in the answer's metadata;
duplicates and packets that arrived out of order are counted too. Packets are decoded
with the firmware's own codec (firmware/voice/adpcm.py, firmware/voice/packet.py); a
packet the firmware could not have made (unknown codec id, wrong size) is an AudioError
naming it.

    pool = Pool()
    pool.add(pkt)                                   # every AUDIO packet from the glasses
    await pool.wait_range(first, last, quiet_s=0.3) # until whole, or nothing new for 0.3 s
    pcm, report = pool.assemble(first, last)        # bytes of 16 kHz int16, dict
"""
import array
import asyncio
from collections import OrderedDict

import host_tools  # noqa: F401  (MicroPython mirrors for the shared firmware code)
from firmware.voice import adpcm, packet as P

FRAME = 320  # samples per packet (20 ms at 16 kHz)
RATE = 16000
MAX_PACKETS = 1024  # longest utterance the phone takes (20 s; the glasses cut at 15 s)
_SILENCE = bytes(2 * FRAME)
_MAX_RUNS = 8  # gap runs listed in a report


class AudioError(ValueError):
    """The utterance cannot be used; the message says which packet and why."""


def decode_packet(pkt):
    """One audio packet -> 320 samples (bytes of int16); AudioError if it is not one the
    glasses make."""
    try:
        P.check(pkt)
    except P.PacketError as e:
        raise AudioError(str(e)) from None
    n = P.samples_in(pkt)
    if n != FRAME:
        raise AudioError("audio packet of %d samples; the glasses send %d" % (n, FRAME))
    out = array.array("h", _SILENCE)
    if P.codec(pkt) == P.CODEC_ADPCM:
        try:
            adpcm.decode(adpcm.State(), pkt, P.HEADER_BYTES, len(pkt) - P.HEADER_BYTES, out)
        except adpcm.AdpcmError as e:
            raise AudioError("bad ADPCM packet: %s" % e) from None
    else:
        out = array.array("h", bytes(pkt[P.HEADER_BYTES:]))
    return out.tobytes()


class _Entry:
    __slots__ = ("pkt", "arrival", "copies")

    def __init__(self, pkt, arrival):
        self.pkt = pkt
        self.arrival = arrival
        self.copies = 1


class Pool:
    """The last `cap` packets by sequence number (16 bits, wrapping)."""

    def __init__(self, cap=2 * MAX_PACKETS):
        self.cap = cap
        self.entries = OrderedDict()  # seq -> _Entry, oldest first
        self.arrivals = 0
        self.too_short = 0
        self.replaced = 0  # same number, other bytes (the glasses restarted their count)
        self._change = None  # asyncio.Event, set when a packet arrives

    def add(self, pkt):
        """Keep one packet; returns its sequence number (None if it has no header)."""
        pkt = bytes(pkt)
        if len(pkt) < P.HEADER_BYTES:
            self.too_short += 1
            return None
        seq = P.seq(pkt)
        self.arrivals += 1
        e = self.entries.get(seq)
        if e is not None and e.pkt == pkt:
            e.copies += 1  # a duplicate, or the same packet handed over again
        else:
            if e is not None:
                self.replaced += 1
            if P.flags(pkt) & P.F_START and e is not None:
                self._forget_from(seq)  # a new count: what was there belongs to the past
            self.entries.pop(seq, None)
            self.entries[seq] = _Entry(pkt, self.arrivals)
            while len(self.entries) > self.cap:
                self.entries.popitem(last=False)
        if self._change is not None:
            self._change.set()
        return seq

    def _forget_from(self, seq):
        for k in [k for k in self.entries if (k - seq) & 0xFFFF < MAX_PACKETS]:
            del self.entries[k]

    def missing(self, first, last):
        n = span(first, last)
        return sum(1 for i in range(n) if ((first + i) & 0xFFFF) not in self.entries)

    async def wait_range(self, first, last, quiet_s=0.3, max_s=3.0):
        """Until every packet first..last is here, or none came for quiet_s (the rest are
        lost), or max_s passed. Returns the number still missing."""
        loop = asyncio.get_running_loop()
        end = loop.time() + max_s
        while True:
            left = self.missing(first, last)
            if not left or loop.time() >= end:
                return left
            self._change = ev = asyncio.Event()
            try:
                await asyncio.wait_for(ev.wait(), min(quiet_s, end - loop.time()))
            except (asyncio.TimeoutError, TimeoutError):
                return self.missing(first, last)
            finally:
                if self._change is ev:
                    self._change = None

    def assemble(self, first, last):
        """(pcm bytes, report) for packets first..last; gaps are silence."""
        n = span(first, last)
        out = []
        gaps = 0
        runs = []
        dups = 0
        reordered = 0
        prev = -1
        for i in range(n):
            e = self.entries.get((first + i) & 0xFFFF)
            if e is None:
                gaps += 1
                if runs and runs[-1][0] + runs[-1][1] == i:
                    runs[-1][1] += 1
                elif len(runs) < _MAX_RUNS:
                    runs.append([i, 1])
                out.append(_SILENCE)
                continue
            try:
                out.append(decode_packet(e.pkt))
            except AudioError as err:
                raise AudioError("packet %d of the utterance (seq %d): %s"
                                 % (i, (first + i) & 0xFFFF, err)) from None
            dups += e.copies - 1
            if e.arrival < prev:
                reordered += 1
            prev = e.arrival
        report = {"packets": n, "received": n - gaps, "gaps": gaps, "gap_runs": runs,
                  "duplicates": dups, "reordered": reordered}
        return b"".join(out), report


def span(first, last):
    """Packets from first to last inclusive (16-bit wrap); AudioError if out of range."""
    for v in (first, last):
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 0xFFFF:
            raise AudioError("packet numbers are 0..65535, not %r" % (v,))
    n = ((last - first) & 0xFFFF) + 1
    if n > MAX_PACKETS:
        raise AudioError("an utterance of %d packets (%.1f s) is longer than the %d the phone "
                         "takes" % (n, n * 0.02, MAX_PACKETS))
    return n
