# Ed25519 signature verification (RFC 8032), portable Python for the glasses: update
# packages are signed on the host; a board that can afford a few seconds of big-int
# arithmetic checks the signature before installing. Verification only: the glasses never
# hold a private key.
from firmware.ota.sha512 import SHA512

_P = 2 ** 255 - 19
_L = 2 ** 252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


class SignatureError(ValueError):
    pass


def _inv(x):
    return pow(x, _P - 2, _P)


# Points in extended coordinates (X, Y, Z, T) with x = X/Z, y = Y/Z, x*y = T/Z.
def _add(p, q):
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % _P
    b = (y1 + x1) * (y2 + x2) % _P
    c = 2 * t1 * t2 * _D % _P
    d = 2 * z1 * z2 % _P
    e = b - a
    f = d - c
    g = d + c
    h = b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _mul_steps(s, p, out, bits_per_step):
    """Generator: out[0] = s * p, yielding every bits_per_step bits so a scheduler task
    can run others in between (a whole verification takes seconds on an MCU)."""
    q = (0, 1, 1, 0)  # the neutral element
    n = 0
    while s:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
        n += 1
        if n % bits_per_step == 0:
            yield
    out[0] = q


def _same(p, q):
    x1, y1, z1, _ = p
    x2, y2, z2, _ = q
    return (x1 * z2 - x2 * z1) % _P == 0 and (y1 * z2 - y2 * z1) % _P == 0


def _decode(b):
    if len(b) != 32:
        raise SignatureError("a point is 32 bytes, got %d" % len(b))
    n = int.from_bytes(b, "little")
    sign = n >> 255
    y = n & ((1 << 255) - 1)
    if y >= _P:
        raise SignatureError("point y out of range")
    # x^2 = (y^2 - 1) / (d y^2 + 1)
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    x = u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P) % _P
    vx2 = v * x * x % _P
    if vx2 != u:
        if vx2 != (-u) % _P:
            raise SignatureError("not a point on the curve")
        x = x * _SQRT_M1 % _P
    if x == 0 and sign:
        raise SignatureError("invalid point encoding")
    if (x & 1) != sign:
        x = _P - x
    return (x, y, 1, x * y % _P)


_GY = 4 * _inv(5) % _P
_B = _decode(_GY.to_bytes(32, "little"))


def verify(public_key, message, signature):
    """True if signature is a valid Ed25519 signature of message under public_key;
    raises SignatureError for malformed keys or signatures, returns False otherwise."""
    result = [False]
    for _ in verify_steps(public_key, message, signature, result):
        pass
    return result[0]


def verify_steps(public_key, message, signature, result, bits_per_step=16):
    """verify() in small steps: a generator to drive (`for _ in ...: await sleep_ms(0)`);
    result[0] holds the answer when it ends."""
    if len(signature) != 64:
        raise SignatureError("a signature is 64 bytes, got %d" % len(signature))
    a = _decode(bytes(public_key))
    yield
    r_bytes = bytes(signature[:32])
    r = _decode(r_bytes)
    yield
    s = int.from_bytes(bytes(signature[32:]), "little")
    if s >= _L:
        raise SignatureError("signature scalar out of range")
    hs = SHA512(rounds_per_step=8)
    for _ in hs.update_steps(r_bytes + bytes(public_key) + bytes(message)):
        yield
    digest = [None]
    for _ in hs.digest_steps(digest):
        yield
    h = int.from_bytes(digest[0], "little") % _L
    sb = [None]
    ha = [None]
    yield
    for _ in _mul_steps(s, _B, sb, bits_per_step):
        yield
    for _ in _mul_steps(h, a, ha, bits_per_step):
        yield
    result[0] = _same(sb[0], _add(r, ha[0]))
