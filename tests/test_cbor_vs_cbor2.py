"""The firmware CBOR codec against PyPI cbor2, and fuzzing of both link decoders."""
import math

import cbor2
from hypothesis import given, settings, strategies as st

from firmware.runtime import cbor
from firmware.protocol.frame import FrameError, Reassembler

keys = st.one_of(st.integers(-(2 ** 70), 2 ** 70), st.text(max_size=8), st.binary(max_size=8))
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2 ** 80), 2 ** 80),
    st.floats(allow_nan=False), st.text(max_size=20), st.binary(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5),
                            st.dictionaries(keys, inner, max_size=5)),
    max_leaves=20,
)


def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) ==
                                                     math.copysign(1, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b and type(a) is type(b)


@settings(max_examples=400, deadline=None)
@given(values)
def test_encoding_is_byte_identical_to_cbor2_canonical(v):
    assert cbor.dumps(v) == cbor2.dumps(v, canonical=True)


@settings(max_examples=400, deadline=None)
@given(values)
def test_decodes_what_cbor2_writes_in_both_forms(v):
    assert same(cbor.loads(cbor2.dumps(v)), v)
    assert same(cbor.loads(cbor2.dumps(v, canonical=True)), v)


@settings(max_examples=300, deadline=None)
@given(values)
def test_cbor2_decodes_what_we_write(v):
    assert same(cbor2.loads(cbor.dumps(v)), v)


def test_nan_matches_cbor2():
    assert cbor.dumps(float("nan")) == cbor2.dumps(float("nan"), canonical=True)


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=64))
def test_random_bytes_give_a_value_or_cbor_error_only(data):
    try:
        cbor.loads(data)
    except cbor.CBORError:
        pass


@settings(max_examples=1500, deadline=None)
@given(values, st.data())
def test_mutated_valid_messages_give_a_value_or_cbor_error_only(v, data):
    enc = bytearray(cbor2.dumps(v, canonical=True))
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if op == "flip" and enc:
            i = data.draw(st.integers(0, len(enc) - 1))
            enc[i] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "cut" and enc:
            del enc[data.draw(st.integers(0, len(enc) - 1)):]
        else:
            enc.insert(data.draw(st.integers(0, len(enc))), data.draw(st.integers(0, 255)))
    try:
        cbor.loads(bytes(enc))
    except cbor.CBORError:
        pass


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=12))
def test_reassembler_gives_messages_or_frame_error_only(frames):
    r = Reassembler(max_message=256)
    errors = 0
    for f in frames:
        try:
            out = r.feed(f)
        except FrameError:
            errors += 1
            continue
        if out is not None:
            assert 0 <= out[0] < 16 and len(out[3]) <= 256
    assert r.errors == errors
