# Audio packets on the link's lossy audio channel: one 20 ms frame per packet.
#
#   byte 0     codec id (low 4 bits) | flags (high 4 bits: START 0x10, END 0x20, WAKE 0x40)
#   bytes 1-2  sequence number, uint16 LE, +1 per packet, wraps at 65536
#   bytes 3-   codec payload
#              CODEC_ADPCM: int16 LE predictor, uint8 step index, N/2 bytes of codes
#              CODEC_PCM16: N samples, int16 LE
#
# A 20 ms ADPCM frame at 16 kHz is 3 + 3 + 160 = 166 bytes: one BLE notification at a
# 247-byte ATT MTU, 8.3 kB/s on the link. The ADPCM state in every packet lets the
# receiver decode any packet on its own (resync after a loss).
from micropython import const

CODEC_PCM16 = const(0)
CODEC_ADPCM = const(1)
CODEC_NAMES = ("pcm16", "adpcm")
F_START = const(0x10)  # first packet of an utterance / stream
F_END = const(0x20)  # last packet of an utterance / stream
F_WAKE = const(0x40)  # on START: the stream waits for the phone to hear the wake word
HEADER_BYTES = const(3)
SEQ_MOD = const(65536)


class PacketError(ValueError):
    pass


def put_header(out, codec, flags, seq):
    out[0] = (codec & 0x0F) | (flags & 0xF0)
    out[1] = seq & 0xFF
    out[2] = (seq >> 8) & 0xFF


def check(pkt):
    """Raise PacketError unless pkt is a packet this firmware can play."""
    n = len(pkt)
    if n < HEADER_BYTES:
        raise PacketError("audio packet too short: %d bytes (header is 3)" % n)
    c = pkt[0] & 0x0F
    if c == CODEC_ADPCM:
        if n < HEADER_BYTES + 3:
            raise PacketError("ADPCM packet too short: %d bytes" % n)
    elif c == CODEC_PCM16:
        if (n - HEADER_BYTES) & 1:
            raise PacketError("PCM16 packet with an odd payload of %d bytes" % (n - 3))
    else:
        raise PacketError("unknown audio codec id %d (known: 0 pcm16, 1 adpcm)" % c)


def codec(pkt):
    return pkt[0] & 0x0F


def flags(pkt):
    return pkt[0] & 0xF0


def seq(pkt):
    return pkt[1] | (pkt[2] << 8)


def seq_diff(a, b):
    """a - b on the 16-bit sequence circle, in -32768..32767."""
    return ((a - b + 32768) & 0xFFFF) - 32768


def samples_in(pkt):
    """Samples the packet decodes to (after check())."""
    n = len(pkt) - HEADER_BYTES
    if pkt[0] & 0x0F == CODEC_ADPCM:
        return (n - 3) << 1
    return n >> 1
