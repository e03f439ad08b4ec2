# IMA ADPCM for MCUs: the same codec as adpcm.py with its two inner loops compiled by
# MicroPython's viper emitter (machine-word ints, ptr8/ptr16 loads and stores, no Python
# objects in the loops). Byte-identical to adpcm.py (tests/fw/test_adpcm.py).
#
# Where there is no native emitter (the WebAssembly build, unix "minimal"), importing
# this module raises SyntaxError ("invalid micropython decorator"): codec.py then uses
# adpcm.py. Under CPython the simulator's `micropython` mirror makes @viper a no-op and
# the ptr8/ptr16 casts below stand in for viper's (a byte / uint16 view of a buffer), so
# the very same function bodies run there too.
import array

import micropython

from firmware.voice.adpcm import (HEADER_BYTES, STEPS, AdpcmError, put_header, get_header,
                                  encoded_size, State)

__all__ = ("encode", "decode", "encoded_size", "State", "AdpcmError", "HEADER_BYTES")

_STEP16 = array.array("H", STEPS)


# CPython stand-ins for viper's casts. Inside @micropython.viper functions the compiler
# treats ptr8/ptr16 as casts whatever module globals exist, so these are never called on
# MicroPython.
def ptr8(buf):
    return getattr(memoryview(buf), "cast")("B")


def ptr16(buf):
    return getattr(getattr(memoryview(buf), "cast")("B"), "cast")("H")


@micropython.viper
def _enc(pcm, n: int, out, off: int, st: int) -> int:
    src = ptr16(pcm)
    dst = ptr8(out)
    tab = ptr16(_STEP16)
    pred = st & 0xFFFF
    if pred >= 0x8000:
        pred -= 0x10000
    idx = st >> 16
    i = 0
    o = off
    while i < n:
        byte = 0
        half = 0
        while half < 8:
            s = int(src[i])
            if s >= 0x8000:
                s -= 0x10000
            step = int(tab[idx])
            diff = s - pred
            code = 0
            if diff < 0:
                code = 8
                diff = 0 - diff
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
            if code & 4:
                idx += ((code & 3) + 1) << 1
                if idx > 88:
                    idx = 88
            else:
                idx -= 1
                if idx < 0:
                    idx = 0
            byte |= code << half
            half += 4
            i += 1
        dst[o] = byte
        o += 1
    return (idx << 16) | (pred & 0xFFFF)


@micropython.viper
def _dec(block, off: int, end: int, pcm, st: int) -> int:
    src = ptr8(block)
    dst = ptr16(pcm)
    tab = ptr16(_STEP16)
    pred = st & 0xFFFF
    if pred >= 0x8000:
        pred -= 0x10000
    idx = st >> 16
    j = off
    o = 0
    while j < end:
        byte = int(src[j])
        j += 1
        half = 0
        while half < 8:
            code = (byte >> half) & 15
            step = int(tab[idx])
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
            if code & 4:
                idx += ((code & 3) + 1) << 1
                if idx > 88:
                    idx = 88
            else:
                idx -= 1
                if idx < 0:
                    idx = 0
            dst[o] = pred & 0xFFFF
            o += 1
            half += 4
    return (idx << 16) | (pred & 0xFFFF)


def _unpack(state, st):
    p = st & 0xFFFF
    state.predictor = p - 0x10000 if p >= 0x8000 else p
    state.index = st >> 16


def encode(state, pcm, n, out, off):
    """As adpcm.encode: n samples (even) of pcm into out[off:], header first."""
    if n & 1:
        raise AdpcmError("ADPCM blocks hold an even number of samples, got %d" % n)
    if n > len(pcm) or off + encoded_size(n) > len(out):
        raise AdpcmError("ADPCM encode: %d samples do not fit the buffers" % n)
    put_header(state, out, off)
    _unpack(state, _enc(pcm, n, out, off + HEADER_BYTES,
                        (state.index << 16) | (state.predictor & 0xFFFF)))
    return HEADER_BYTES + (n >> 1)


def decode(state, block, off, nbytes, pcm):
    """As adpcm.decode: one block (header + codes) into pcm; returns the sample count."""
    if nbytes < HEADER_BYTES:
        raise AdpcmError("ADPCM block too short: %d bytes" % nbytes)
    n = (nbytes - HEADER_BYTES) << 1
    if n > len(pcm):
        raise AdpcmError("ADPCM block of %d samples does not fit %d" % (n, len(pcm)))
    if off + nbytes > len(block):
        raise AdpcmError("ADPCM block runs past the buffer")
    get_header(state, block, off)
    _unpack(state, _dec(block, off + HEADER_BYTES, off + nbytes, pcm,
                        (state.index << 16) | (state.predictor & 0xFFFF)))
    return n
