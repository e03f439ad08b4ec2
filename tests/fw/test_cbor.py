# CBOR codec. Runs under CPython (pytest) and MicroPython (tests/mpy/run.py).
# The vectors below are what PyPI cbor2 6.x writes with dumps(canonical=True); the CPython
# test tests/test_cbor_vs_cbor2.py checks the codec against cbor2 itself on random values.
from fwtest import raises

from firmware.runtime.cbor import dumps, loads, decode_from, dump_into, CBORError
from corpus_bad import CBOR_BAD

VECTORS = [
    (0, "00"), (23, "17"), (24, "1818"), (255, "18ff"), (256, "190100"),
    (65535, "19ffff"), (65536, "1a00010000"), (2 ** 32, "1b0000000100000000"),
    (2 ** 64 - 1, "1bffffffffffffffff"), (2 ** 64, "c249010000000000000000"),
    (-1, "20"), (-24, "37"), (-25, "3818"), (-(2 ** 64), "3bffffffffffffffff"),
    (-(2 ** 64) - 1, "c349010000000000000000"),
    (1.0, "f93c00"), (1.5, "f93e00"), (0.1, "fb3fb999999999999a"),
    (1e300, "fb7e37e43c8800759c"), (float("inf"), "f97c00"), (float("-inf"), "f9fc00"),
    (-0.0, "f98000"), (65504.0, "f97bff"), (65520.0, "fa477ff000"),
    (5.960464477539063e-08, "f90001"), (2.0 ** -25, "fa33000000"),
    (6.103515625e-05, "f90400"), (-2.0 ** -14 * 1.5, "f98600"),
    (3.4028234663852886e+38, "fa7f7fffff"), (1e-07, "fb3e7ad7f29abcaf48"),
    ("", "60"), ("é", "62c3a9"), (b"", "40"), (b"\x01\x02", "420102"),
    ([], "80"), ([1, b"x", "y"], "830141786179"), ((1, 2), "820102"),
    (True, "f5"), (False, "f4"), (None, "f6"),
    ({"b": 1, "a": 2, 1: 3, "aa": 4, -1: 5}, "a50103200561610261620162616104"),
    ({256: 1, "a": 2}, "a261610219010001"),
    ({1: {2: [3, {4: "x"}]}}, "a101a1028203a1046178"),
]


def _hex(b):
    return "".join("%02x" % x for x in b)


def _unhex(h):
    return bytes(int(h[i:i + 2], 16) for i in range(0, len(h), 2))


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        if a != a:
            return b != b
        return a == b and str(a)[0] == str(b)[0]  # -0.0 keeps its sign
    if isinstance(a, tuple):
        a = list(a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, list) and len(a) == len(b) and all(
            _same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and len(a) == len(b) and all(
            k in b and _same(v, b[k]) for k, v in a.items())
    return a == b and type(a) is type(b)


def test_encoding_matches_cbor2_canonical_vectors():
    bad = []
    for value, want in VECTORS:
        got = _hex(dumps(value))
        if got != want:
            bad.append((value, got, want))
    assert not bad, bad


def test_vectors_decode_back():
    for value, h in VECTORS:
        got = loads(_unhex(h))
        assert _same(value, got), (value, got)


def test_nan_and_non_canonical_floats_decode():
    nan = loads(_unhex("f97e00"))
    assert nan != nan
    assert dumps(float("nan")) == _unhex("f97e00")
    assert loads(_unhex("fb3ff0000000000000")) == 1.0  # cbor2's default (double) form
    assert loads(_unhex("fa3fc00000")) == 1.5
    assert loads(_unhex("f90000")) == 0.0


def test_non_minimal_ints_from_other_encoders_decode():
    assert loads(_unhex("1800")) == 0
    assert loads(_unhex("1a00000001")) == 1
    assert loads(_unhex("3b0000000000000000")) == -1


def test_decode_from_a_memoryview_without_copying_bytes():
    buf = bytearray(dumps([b"hello", "t", 7]))
    mv = memoryview(buf)
    v = loads(mv, copy_bytes=False)
    assert isinstance(v[0], memoryview) and bytes(v[0]) == b"hello"
    buf[2] = ord("j")  # the value is a view of the input: no copy was made
    assert bytes(v[0]) == b"jello"
    assert v[1:] == ["t", 7]


def test_decode_from_offsets_walks_a_stream_of_items():
    buf = dumps(1) + dumps("two") + dumps([3])
    out = []
    i = 0
    while i < len(buf):
        v, i = decode_from(buf, i)
        out.append(v)
    assert out == [1, "two", [3]]


def test_dump_into_appends():
    out = bytearray(b"\xaa")
    dump_into(out, {1: 2})
    assert out == bytearray(b"\xaa\xa1\x01\x02")


def test_errors_name_the_problem():
    cases = [
        ("", "truncated"),
        ("19ff", "truncated"),
        ("6461", "truncated"),
        ("83 01 02", "cannot fit"),
        ("9f01ff", "indefinite"),
        ("1c", "reserved"),
        ("0102", "trailing"),
        ("62c328", "UTF-8"),
        ("a1810102", "unhashable"),
        ("c101", "unsupported tag"),
        ("c201", "bignum"),
        ("f7", "simple value"),
        ("ff", "break"),
        ("9b7fffffffffffffff", "cannot fit"),
        ("bb7fffffffffffffff", "cannot fit"),
        ("81" * 40 + "00", "nesting"),
    ]
    for h, want in cases:
        e = raises(CBORError, loads, _unhex(h.replace(" ", "")))
        assert want in str(e), (h, str(e))


def test_encoder_refuses_what_it_cannot_encode():
    raises(CBORError, dumps, object())
    raises(CBORError, dumps, {1: {2, 3}})
    deep = []
    for _ in range(20):
        deep = [deep]
    raises(CBORError, dumps, deep)


def test_saved_corpus_of_bad_inputs_only_raises_cbor_error():
    # Inputs found by fuzzing (tests/test_cbor_vs_cbor2.py) and by hand: each must give a
    # CBORError, never another exception and never a crash.
    for h in CBOR_BAD:
        try:
            loads(_unhex(h))
        except CBORError:
            continue
        raise AssertionError("accepted bad input " + h)


def test_round_trip_typical_link_messages():
    msgs = [
        {0: 1, 1: "hello", 2: {0: 1, 1: ["audio", "rpc"]}},
        {0: 5, 1: 1234, 2: b"\x00" * 160},
        {0: 7, 1: "asr", 2: -3, 3: 0.25, 4: None, 5: True},
    ]
    for m in msgs:
        assert _same(m, loads(dumps(m)))
