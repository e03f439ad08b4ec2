# Link frames: what goes in one ATT write or notification (at most ATT MTU - 3 bytes).
#
#   byte 0     channel << 4 | flags
#   bytes 1-2  sequence number, little-endian (the message's, repeated in each fragment)
#   bytes 3..  payload fragment
#
# A message longer than one frame is split; F_FIRST marks its first fragment and F_LAST
# its last (a one-frame message has both). F_CTRL marks a link-control frame (acks with
# credit, keepalives) whose meaning the session layer defines. The Reassembler joins
# fragments back and raises FrameError, with a reason, for anything that does not fit.
# The whole wire format, with a worked example, is in docs/link.md.
from micropython import const

HEADER_LEN = const(3)
ATT_OVERHEAD = const(3)
F_FIRST = const(0x1)
F_LAST = const(0x2)
F_CTRL = const(0x4)
_F_RESERVED = const(0x8)
N_CHANNELS = const(16)
SEQ_MOD = const(0x10000)


class FrameError(ValueError):
    pass


def max_payload(mtu):
    """Payload bytes one frame can carry for a negotiated ATT MTU."""
    n = mtu - ATT_OVERHEAD - HEADER_LEN
    if n < 1:
        raise FrameError("ATT MTU %d is too small for a frame" % mtu)
    return n


def pack_header(buf, channel, flags, seq):
    buf[0] = (channel << 4) | flags
    buf[1] = seq & 0xFF
    buf[2] = (seq >> 8) & 0xFF


def parse_header(frame):
    """Return (channel, flags, seq) of a frame; FrameError if it cannot be one."""
    if len(frame) < HEADER_LEN:
        raise FrameError("frame of %d bytes is shorter than its header" % len(frame))
    b0 = frame[0]
    if b0 & _F_RESERVED:
        raise FrameError("reserved flag set in frame header 0x%02x" % b0)
    return b0 >> 4, b0 & 0x7, frame[1] | (frame[2] << 8)


def encode(channel, flags, seq, payload=b""):
    """One frame as bytes."""
    if not 0 <= channel < N_CHANNELS:
        raise FrameError("channel %d out of range" % channel)
    out = bytearray(HEADER_LEN + len(payload))
    pack_header(out, channel, flags, seq)
    out[HEADER_LEN:] = payload
    return bytes(out)


def split_into(buf, channel, seq, payload, offset, mtu):
    """Write the fragment of payload starting at offset into buf (a bytearray of at least
    mtu - 3 bytes). Return (frame_length, next_offset); next_offset == len(payload) after
    the last fragment."""
    room = max_payload(mtu)
    n = len(payload) - offset
    flags = F_FIRST if offset == 0 else 0
    if n <= room:
        flags |= F_LAST
    else:
        n = room
    pack_header(buf, channel, flags, seq)
    buf[HEADER_LEN:HEADER_LEN + n] = payload[offset:offset + n]
    return HEADER_LEN + n, offset + n


def split(channel, seq, payload, mtu):
    """All frames of one message, as a list of bytes."""
    if not 0 <= channel < N_CHANNELS:
        raise FrameError("channel %d out of range" % channel)
    buf = bytearray(mtu - ATT_OVERHEAD)
    frames = []
    off = 0
    while True:
        n, off = split_into(buf, channel, seq, payload, off, mtu)
        frames.append(bytes(buf[:n]))
        if off >= len(payload):
            return frames


def frame_count(length, mtu):
    room = max_payload(mtu)
    return 1 if length == 0 else (length + room - 1) // room


class Reassembler:
    """Joins fragments back into messages, one message in flight per channel.

    feed(frame) returns (channel, flags, seq, payload) for a complete message or a control
    frame, None while a message is still incomplete, and raises FrameError (counted in
    .errors) for a frame that does not fit; the partial message is then dropped.

    max_message is one limit for every channel, or a sequence with one limit per channel
    (channels past its end get the last entry). A channel's buffer is allocated at its
    limit the first time it receives a multi-frame message, then reused."""

    def __init__(self, max_message=4096):
        if isinstance(max_message, int):
            self._limits = None
            self.max_message = max_message
        else:
            self._limits = max_message
            self.max_message = max(max_message)
        self._buf = [None] * N_CHANNELS
        self._len = [0] * N_CHANNELS
        self._seq = [-1] * N_CHANNELS  # -1: no message in progress
        self.errors = 0

    def limit(self, ch):
        lim = self._limits
        if lim is None:
            return self.max_message
        return lim[ch] if ch < len(lim) else lim[-1]

    def in_progress(self, ch):
        """The seq of the partial message on channel ch, or -1."""
        return self._seq[ch]

    def reset(self):
        """Forget partial messages (after a disconnect)."""
        for ch in range(N_CHANNELS):
            self._seq[ch] = -1
            self._len[ch] = 0

    def _fail(self, ch, reason):
        self.errors += 1
        if ch >= 0:
            self._seq[ch] = -1
            self._len[ch] = 0
        raise FrameError(reason)

    def feed(self, frame):
        try:
            ch, flags, seq = parse_header(frame)
        except FrameError:
            self.errors += 1
            raise
        mv = frame if isinstance(frame, memoryview) else memoryview(frame)
        body = mv[HEADER_LEN:]
        if flags & F_CTRL:
            return ch, flags, seq, body
        first = flags & F_FIRST
        last = flags & F_LAST
        cur = self._seq[ch]
        if first:
            if cur >= 0:
                self._fail(ch, "channel %d: message %d started before message %d ended" %
                           (ch, seq, cur))
            if last:
                if len(body) > self.limit(ch):
                    self._fail(ch, "channel %d: message of %d bytes exceeds %d" %
                               (ch, len(body), self.limit(ch)))
                return ch, flags, seq, body
            self._seq[ch] = seq
            self._len[ch] = 0
        elif cur < 0:
            self._fail(-1, "channel %d: fragment of message %d without its start" % (ch, seq))
        elif seq != cur:
            self._fail(ch, "channel %d: fragment of message %d inside message %d" %
                       (ch, seq, cur))
        n = self._len[ch]
        end = n + len(body)
        lim = self.limit(ch)
        if end > lim:
            self._fail(ch, "channel %d: message exceeds %d bytes" % (ch, lim))
        buf = self._buf[ch]
        if buf is None:
            buf = self._buf[ch] = bytearray(lim)
        buf[n:end] = body
        self._len[ch] = end
        if last:
            self._seq[ch] = -1
            self._len[ch] = 0
            return ch, flags, seq, memoryview(buf)[:end]
        return None
