# The last spoken query, kept on the glasses while the phone is unreachable.
#
# Every packet of the utterance being captured is also copied here (a preallocated byte
# buffer of max_bytes: 2-byte length + packet, in order). If the utterance could not be
# delivered whole, it is HELD for keep_ms after it ended; when the link returns it is
# handed over packet by packet (same sequence numbers: the phone drops what it already
# has). A query longer than the buffer keeps its beginning; its last kept packet is then
# flagged END. A new utterance replaces a held one ("the last query").
#
#   IDLE --begin--> RECORDING --finish(delivered)--> IDLE
#                   RECORDING --finish(undelivered)--> HELD --link back--> HANDOVER --> IDLE
#                                                      HELD --keep_ms passed--> IDLE (expired)
#   IDLE --hold()--> HELD: the last query was sent but its answer was lost with the link;
#                          keep it again (until keep_ms after it ended)
from micropython import const

from firmware.voice import packet as P

IDLE = const(0)
RECORDING = const(1)
HELD = const(2)
HANDOVER = const(3)
STATE_NAMES = ("idle", "recording", "held", "handover")


class QueryStore:
    def __init__(self, clock, max_bytes=32768, keep_ms=60000):
        if max_bytes < 256 or keep_ms <= 0:
            raise ValueError("offline store: max_bytes >= 256 and keep_ms > 0")
        self.clock = clock
        self.buf = bytearray(max_bytes)
        self.max_bytes = max_bytes
        self.keep_ms = keep_ms
        self.state = IDLE
        self.used = 0
        self.packets = 0
        self.truncated = False
        self._last = -1  # offset of the last stored packet's length field
        self._read = 0
        self.ended_ms = 0
        self.held_total = 0
        self.handed_over = 0
        self.expired = 0
        self.replaced = 0
        self.pkt_len = 0

    def begin(self):
        if self.state in (HELD, HANDOVER):
            self.replaced += 1
        self.state = RECORDING
        self.used = 0
        self.packets = 0
        self.truncated = False
        self._last = -1
        self._read = 0

    def add(self, pkt, n):
        """Copy the first n bytes of pkt in; False (and truncated) when it does not fit."""
        if self.state != RECORDING:
            return False
        if self.truncated or self.used + 2 + n > self.max_bytes:
            if not self.truncated and self._last >= 0:
                self.buf[self._last + 2] |= P.F_END  # what is kept ends here
            self.truncated = True
            return False
        o = self.used
        b = self.buf
        b[o] = n & 0xFF
        b[o + 1] = n >> 8
        for i in range(n):
            b[o + 2 + i] = pkt[i]
        self._last = o
        self.used = o + 2 + n
        self.packets += 1
        return True

    def finish(self, delivered):
        """The utterance ended; hold it unless it was delivered whole."""
        if self.state != RECORDING:
            return
        self.ended_ms = self.clock.ticks_ms()
        if delivered or not self.packets:
            self.state = IDLE
            return
        self.state = HELD
        self.held_total += 1

    def hold(self, first_seq):
        """Keep the last query again (its answer was lost): True if it is still here
        (it began with packet first_seq, no newer one replaced it, and it ended less than
        keep_ms ago)."""
        if self.state != IDLE or not self.packets or self.first_seq() != first_seq:
            return False
        if self.clock.ticks_diff(self.clock.ticks_ms(), self.ended_ms) > self.keep_ms:
            return False
        self.state = HELD
        self.held_total += 1
        return True

    def _seq_at(self, off):
        return self.buf[off + 3] | (self.buf[off + 4] << 8)

    def first_seq(self):
        """Sequence number of the first packet kept (-1: none)."""
        return self._seq_at(0) if self.packets else -1

    def last_seq(self):
        """Sequence number of the last packet kept (-1: none)."""
        return self._seq_at(self._last) if self.packets else -1

    def poll(self, link_up):
        """Advance HELD: expire it, or start the handover when link_up."""
        if self.state == HELD:
            if self.clock.ticks_diff(self.clock.ticks_ms(), self.ended_ms) > self.keep_ms:
                self.state = IDLE
                self.expired += 1
            elif link_up:
                self.state = HANDOVER
                self._read = 0
        return self.state

    def next_packet(self):
        """During HANDOVER: the offset in self.buf of the next stored packet (its length
        in self.pkt_len), or -1 once all were handed over (the store is then IDLE)."""
        if self.state != HANDOVER:
            return -1
        o = self._read
        if o >= self.used:
            self.state = IDLE
            self.handed_over += 1
            return -1
        n = self.buf[o] | (self.buf[o + 1] << 8)
        self._read = o + 2 + n
        self.pkt_len = n
        return o + 2
