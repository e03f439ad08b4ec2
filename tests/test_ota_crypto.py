"""The glasses' SHA-512 and Ed25519 verifier against hashlib and PyPI cryptography."""
import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings, strategies as st

from firmware.ota import ed25519
from firmware.ota.sha512 import sha512


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_sha512_matches_hashlib(data):
    assert sha512(data) == hashlib.sha512(data).digest()


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.binary(max_size=300), st.integers(0, 511))
def test_ed25519_agrees_with_cryptography(seed, msg, bit):
    key = Ed25519PrivateKey.from_private_bytes(seed)
    pub = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    sig = key.sign(msg)
    assert ed25519.verify(pub, msg, sig)
    bad = bytearray(sig)
    bad[bit // 8] ^= 1 << (bit % 8)
    try:
        ok = ed25519.verify(pub, msg, bytes(bad))
    except ed25519.SignatureError:
        ok = False
    assert not ok
