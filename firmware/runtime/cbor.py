# CBOR (RFC 8949) for the link: ints (any size, bignum tags 2/3 past 64 bits), bytes, text,
# arrays, maps, bool, None, floats. The encoder writes the canonical form (shortest
# ints and floats, map keys sorted length-first), byte-identical to cbor2's
# dumps(canonical=True). The decoder reads straight from a memoryview of the input and
# raises CBORError, never anything else, for truncated, oversized or malformed input.
import struct

from micropython import const

MAX_DEPTH = const(16)


class CBORError(ValueError):
    pass


# ---- encoding ---------------------------------------------------------------------------
def _head(out, major, n):
    m = major << 5
    if n < 24:
        out.append(m | n)
    elif n < 0x100:
        out.append(m | 24)
        out.append(n)
    elif n < 0x10000:
        out.append(m | 25)
        out.extend(struct.pack(">H", n))
    elif n < 0x100000000:
        out.append(m | 26)
        out.extend(struct.pack(">I", n))
    else:
        out.append(m | 27)
        out.extend(struct.pack(">Q", n))


def _int(out, v):
    if v >= 0:
        if v < 0x10000000000000000:
            _head(out, 0, v)
            return
        tag, mag = 2, v
    else:
        if v >= -0x10000000000000000:
            _head(out, 1, -1 - v)
            return
        tag, mag = 3, -1 - v
    n = 0
    x = mag
    while x:
        n += 1
        x >>= 8
    _head(out, 6, tag)
    _head(out, 2, n)
    out.extend(mag.to_bytes(n, "big"))


def _half_bits(b):
    """Half-precision bits for the float32 big-endian bytes b, or -1 if not exact."""
    sign = (b[0] >> 7) << 15
    exp = ((b[0] & 0x7F) << 1) | (b[1] >> 7)
    mant = ((b[1] & 0x7F) << 16) | (b[2] << 8) | b[3]
    if exp == 0xFF:
        return sign | 0x7C00 if mant == 0 else 0x7E00
    if exp == 0:
        return sign if mant == 0 else -1
    e = exp - 127
    if -14 <= e <= 15:
        if mant & 0x1FFF:
            return -1
        return sign | ((e + 15) << 10) | (mant >> 13)
    if -24 <= e < -14:
        sig = mant | 0x800000
        shift = -e - 1
        if sig & ((1 << shift) - 1):
            return -1
        return sign | (sig >> shift)
    return -1


def _float(out, v):
    if v != v:  # NaN: canonical half NaN
        out.extend(b"\xf9\x7e\x00")
        return
    if -3.4028234663852886e38 <= v <= 3.4028234663852886e38 or v in (_INF, -_INF):
        f4 = struct.pack(">f", v)
        if struct.unpack(">f", f4)[0] == v:
            h = _half_bits(f4)
            if h >= 0:
                out.append(0xF9)
                out.append(h >> 8)
                out.append(h & 0xFF)
            else:
                out.append(0xFA)
                out.extend(f4)
            return
    out.append(0xFB)
    out.extend(struct.pack(">d", v))


_INF = float("inf")


def _key_bytes(k):
    out = bytearray()
    _enc(out, k, 1)
    return bytes(out)


def _enc(out, v, depth):
    if depth > MAX_DEPTH:
        raise CBORError("nesting deeper than %d" % MAX_DEPTH)
    if v is None:
        out.append(0xF6)
    elif v is True:
        out.append(0xF5)
    elif v is False:
        out.append(0xF4)
    elif isinstance(v, int):
        _int(out, v)
    elif isinstance(v, float):
        _float(out, v)
    elif isinstance(v, str):
        b = v.encode()
        _head(out, 3, len(b))
        out.extend(b)
    elif isinstance(v, (bytes, bytearray, memoryview)):
        _head(out, 2, len(v))
        out.extend(v)
    elif isinstance(v, (list, tuple)):
        _head(out, 4, len(v))
        for x in v:
            _enc(out, x, depth + 1)
    elif isinstance(v, dict):
        _head(out, 5, len(v))
        keys = sorted(v, key=_tiny_key_order)
        if not keys or _tiny_key_order(keys[-1]) < 0x100:
            # every key encodes as one byte (ints -24..23): that byte is the order
            for k in keys:
                _int(out, k)
                _enc(out, v[k], depth + 1)
        else:
            items = [(_key_bytes(k), x) for k, x in v.items()]
            items.sort(key=_canonical_order)
            for kb, x in items:
                out.extend(kb)
                _enc(out, x, depth + 1)
    else:
        raise CBORError("cannot encode %s" % type(v).__name__)


def _tiny_key_order(k):
    """The one-byte encoding of an int key in -24..23; 0x100 for any other key."""
    if isinstance(k, int) and not isinstance(k, bool) and -24 <= k < 24:
        return k if k >= 0 else 0x1F - k
    return 0x100


def _canonical_order(item):
    return (len(item[0]), item[0])


def dumps(v):
    """Encode v in canonical CBOR; returns bytes."""
    out = bytearray()
    _enc(out, v, 0)
    return bytes(out)


def dump_into(out, v):
    """Append the canonical CBOR of v to the bytearray out."""
    _enc(out, v, 0)


# ---- decoding ---------------------------------------------------------------------------
def _f16(h):
    sign = h & 0x8000
    exp = (h >> 10) & 0x1F
    mant = h & 0x3FF
    if exp == 0x1F:
        e32 = 0xFF
        m32 = mant << 13
    elif exp == 0:
        if mant == 0:
            e32 = 0
            m32 = 0
        else:  # subnormal half: normalise
            e = -14
            while not mant & 0x400:
                mant <<= 1
                e -= 1
            e32 = e + 127
            m32 = (mant & 0x3FF) << 13
    else:
        e32 = exp - 15 + 127
        m32 = mant << 13
    b = bytes((((sign >> 8) | (e32 >> 1)), ((e32 & 1) << 7) | (m32 >> 16),
               (m32 >> 8) & 0xFF, m32 & 0xFF))
    return struct.unpack(">f", b)[0]


class _Decoder:
    def __init__(self, mv, copy_bytes):
        self.mv = mv
        self.end = len(mv)
        self.copy = copy_bytes

    def need(self, i, n):
        if n > self.end - i:
            raise CBORError("truncated: need %d bytes at offset %d, %d left" %
                            (n, i, self.end - i))

    def arg(self, i, ai):
        """Read the argument for additional info ai at offset i; return (n, i)."""
        mv = self.mv
        if ai < 24:
            return ai, i
        if ai == 24:
            self.need(i, 1)
            return mv[i], i + 1
        if ai == 25:
            self.need(i, 2)
            return (mv[i] << 8) | mv[i + 1], i + 2
        if ai == 26:
            self.need(i, 4)
            return int.from_bytes(bytes(mv[i:i + 4]), "big"), i + 4
        if ai == 27:
            self.need(i, 8)
            return int.from_bytes(bytes(mv[i:i + 8]), "big"), i + 8
        if ai == 31:
            raise CBORError("indefinite-length items are not supported (offset %d)" % (i - 1))
        raise CBORError("reserved additional info %d at offset %d" % (ai, i - 1))

    def item(self, i, depth):
        if depth > MAX_DEPTH:
            raise CBORError("nesting deeper than %d" % MAX_DEPTH)
        self.need(i, 1)
        ib = self.mv[i]
        major = ib >> 5
        ai = ib & 0x1F
        i += 1
        if major == 7:
            return self.simple(i, ai)
        n, i = self.arg(i, ai)
        if major == 0:
            return n, i
        if major == 1:
            return -1 - n, i
        if major == 2 or major == 3:
            self.need(i, n)
            j = i + n
            if major == 2:
                v = self.mv[i:j]
                return (bytes(v) if self.copy else v), j
            try:
                return str(self.mv[i:j], "utf-8"), j
            except (UnicodeError, ValueError):
                raise CBORError("text at offset %d is not valid UTF-8" % i)
        if major == 4:
            if n > self.end - i:  # each item needs at least one byte
                raise CBORError("array of %d items cannot fit in %d bytes" % (n, self.end - i))
            arr = []
            for _ in range(n):
                v, i = self.item(i, depth + 1)
                arr.append(v)
            return arr, i
        if major == 5:
            if 2 * n > self.end - i:
                raise CBORError("map of %d pairs cannot fit in %d bytes" % (n, self.end - i))
            d = {}
            for _ in range(n):
                at = i
                k, i = self.item(i, depth + 1)
                if isinstance(k, memoryview):
                    k = bytes(k)
                elif isinstance(k, (list, dict)):
                    raise CBORError("unhashable map key at offset %d" % at)
                v, i = self.item(i, depth + 1)
                d[k] = v
            return d, i
        # major 6: tags; only bignums
        if n == 2 or n == 3:
            at = i
            v, i = self.item(i, depth + 1)
            if not isinstance(v, (bytes, memoryview)):
                raise CBORError("bignum tag at offset %d does not hold a byte string" % at)
            mag = int.from_bytes(bytes(v), "big")
            return (mag if n == 2 else -1 - mag), i
        raise CBORError("unsupported tag %d at offset %d" % (n, i))

    def simple(self, i, ai):
        if ai == 20:
            return False, i
        if ai == 21:
            return True, i
        if ai == 22:
            return None, i
        mv = self.mv
        if ai == 25:
            self.need(i, 2)
            return _f16((mv[i] << 8) | mv[i + 1]), i + 2
        if ai == 26:
            self.need(i, 4)
            return struct.unpack(">f", bytes(mv[i:i + 4]))[0], i + 4
        if ai == 27:
            self.need(i, 8)
            return struct.unpack(">d", bytes(mv[i:i + 8]))[0], i + 8
        if ai == 31:
            raise CBORError("unexpected break at offset %d" % (i - 1))
        raise CBORError("unsupported simple value %d at offset %d" % (ai, i - 1))


def decode_from(buf, offset=0, copy_bytes=True):
    """Decode one item at buf[offset:]; return (value, next_offset). With
    copy_bytes=False, byte strings come back as memoryview slices of buf (no copy)."""
    mv = buf if isinstance(buf, memoryview) else memoryview(buf)
    try:
        return _Decoder(mv, copy_bytes).item(offset, 0)
    except CBORError:
        raise
    except (IndexError, TypeError, ValueError, OverflowError, MemoryError, RuntimeError) as e:
        raise CBORError("malformed CBOR: %s" % e)


def loads(buf, copy_bytes=True):
    """Decode exactly one item that fills buf."""
    v, i = decode_from(buf, 0, copy_bytes)
    if i != len(buf):
        raise CBORError("%d trailing bytes after the item" % (len(buf) - i))
    return v
