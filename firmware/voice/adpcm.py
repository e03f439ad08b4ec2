# IMA ADPCM (4:1): 16-bit PCM <-> 4-bit codes, the portable pure-Python codec.
#
# Standard IMA tables (89 step sizes, 8 index adjustments). The codec state is the
# predictor (int16) and the step index (0..88); it carries across blocks. Two codes per
# byte, first sample in the LOW nibble (as in IMA ADPCM WAV files).
#
# Block format (the payload of an ADPCM audio packet, see firmware/voice/packet.py):
#     int16 LE  predictor before the first sample
#     uint8     step index before the first sample
#     N/2 bytes codes (N samples, N even)
# The header carries the state, so a receiver that lost a packet resyncs on the next.
#
# adpcm_viper.py is the same codec for the MCU's native emitter; both produce identical
# bytes (tests/fw/test_adpcm.py). codec.py picks one at import time.
from micropython import const

HEADER_BYTES = const(3)
INDEX_MAX = const(88)

STEPS = (
    7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 19, 21, 23, 25, 28, 31, 34, 37, 41, 45,
    50, 55, 60, 66, 73, 80, 88, 97, 107, 118, 130, 143, 157, 173, 190, 209, 230, 253,
    279, 307, 337, 371, 408, 449, 494, 544, 598, 658, 724, 796, 876, 963, 1060, 1166,
    1282, 1411, 1552, 1707, 1878, 2066, 2272, 2499, 2749, 3024, 3327, 3660, 4026, 4428,
    4871, 5358, 5894, 6484, 7132, 7845, 8630, 9493, 10442, 11487, 12635, 13899, 15289,
    16818, 18500, 20350, 22385, 24623, 27086, 29794, 32767)
INDEX_ADJUST = (-1, -1, -1, -1, 2, 4, 6, 8)


class AdpcmError(ValueError):
    pass


class State:
    """Codec state carried from block to block: predictor and step index."""

    def __init__(self, predictor=0, index=0):
        self.predictor = predictor
        self.index = index

    def reset(self, predictor=0, index=0):
        self.predictor = predictor
        self.index = index


def encoded_size(n_samples):
    """Bytes of one block (header + codes) for n_samples (even)."""
    return HEADER_BYTES + (n_samples >> 1)


def put_header(state, out, off):
    p = state.predictor & 0xFFFF
    out[off] = p & 0xFF
    out[off + 1] = p >> 8
    out[off + 2] = state.index


def get_header(state, block, off):
    """Load the state from a block header; AdpcmError if it is impossible."""
    p = block[off] | (block[off + 1] << 8)
    if p >= 0x8000:
        p -= 0x10000
    i = block[off + 2]
    if i > INDEX_MAX:
        raise AdpcmError("bad ADPCM block header: step index %d > 88" % i)
    state.predictor = p
    state.index = i


def encode(state, pcm, n, out, off):
    """Encode n samples (even) of pcm (signed 16-bit items) into out[off:], header first.
    Updates state; returns the number of bytes written. Allocates nothing."""
    if n & 1:
        raise AdpcmError("ADPCM blocks hold an even number of samples, got %d" % n)
    put_header(state, out, off)
    o = off + HEADER_BYTES
    pred = state.predictor
    idx = state.index
    steps = STEPS
    adj = INDEX_ADJUST
    i = 0
    while i < n:
        byte = 0
        for half in (0, 4):
            step = steps[idx]
            diff = pcm[i] - pred
            code = 0
            if diff < 0:
                code = 8
                diff = -diff
            delta = step >> 3
            if diff >= step:
                code |= 4
                diff -= step
                delta += step
            step >>= 1
            if diff >= step:
                code |= 2
                diff -= step
                delta += step
            step >>= 1
            if diff >= step:
                code |= 1
                delta += step
            if code & 8:
                pred -= delta
                if pred < -32768:
                    pred = -32768
            else:
                pred += delta
                if pred > 32767:
                    pred = 32767
            idx += adj[code & 7]
            if idx < 0:
                idx = 0
            elif idx > 88:
                idx = 88
            byte |= code << half
            i += 1
        out[o] = byte
        o += 1
    state.predictor = pred
    state.index = idx
    return o - off


def decode(state, block, off, nbytes, pcm):
    """Decode one block (header + codes, nbytes long) from block[off:] into pcm (signed
    16-bit items); the state is taken from the header. Returns the sample count."""
    if nbytes < HEADER_BYTES:
        raise AdpcmError("ADPCM block too short: %d bytes" % nbytes)
    n = (nbytes - HEADER_BYTES) << 1
    if n > len(pcm):
        raise AdpcmError("ADPCM block of %d samples does not fit %d" % (n, len(pcm)))
    get_header(state, block, off)
    pred = state.predictor
    idx = state.index
    steps = STEPS
    adj = INDEX_ADJUST
    o = 0
    end = off + nbytes
    j = off + HEADER_BYTES
    while j < end:
        byte = block[j]
        j += 1
        for half in (0, 4):
            code = (byte >> half) & 15
            step = steps[idx]
            delta = step >> 3
            if code & 4:
                delta += step
            if code & 2:
                delta += step >> 1
            if code & 1:
                delta += step >> 2
            if code & 8:
                pred -= delta
                if pred < -32768:
                    pred = -32768
            else:
                pred += delta
                if pred > 32767:
                    pred = 32767
            idx += adj[code & 7]
            if idx < 0:
                idx = 0
            elif idx > 88:
                idx = 88
            pcm[o] = pred
            o += 1
    state.predictor = pred
    state.index = idx
    return n
