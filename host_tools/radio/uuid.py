"""UUIDs as bleak writes them: lower-case 128-bit strings."""
from __future__ import annotations


def uuid_str(u) -> str:
    """bleak's form of a bumble UUID or of little-endian UUID bytes (2, 4 or 16)."""
    b = bytes(u.uuid_128_bytes if hasattr(u, "uuid_128_bytes") else u)
    if len(b) in (2, 4):
        b = bytes.fromhex("00001000800000805F9B34FB")[::-1] + b + bytes(4 - len(b))
    h = b[::-1].hex()
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])
