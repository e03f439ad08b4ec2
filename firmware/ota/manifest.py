# Update packages. A package is a CBOR envelope {0: manifest_bytes, 1: signature|None};
# the manifest (CBOR, canonical) is {0: version, 1: min_boot, 2: [[path, size, sha256],
# ...], 3: board|None, 4: security counter (firmware/version.py SECURITY; absent: 0)}.
# The signature (Ed25519 over manifest_bytes) is optional; the glasses check it when they
# are given a public key.
import hashlib

from firmware.runtime import cbor

BOOT_VERSION = 1  # what this bootloader (firmware/ota/boot.py + main.py) understands
MAX_FILES = 200
MAX_PATH = 96


class ManifestError(ValueError):
    pass


def sha256(data):
    return hashlib.sha256(data).digest()


def build(version, files, min_boot=BOOT_VERSION, board=None, security=0):
    """files: [(path, bytes)] -> manifest bytes."""
    entries = [[p, len(d), sha256(d)] for p, d in files]
    return cbor.dumps({0: version, 1: min_boot, 2: entries, 3: board, 4: security})


def security(m):
    """A parsed manifest's security counter."""
    return m.get(4) or 0


def envelope(manifest_bytes, signature=None):
    return cbor.dumps({0: manifest_bytes, 1: signature})


def _check_path(p):
    if not isinstance(p, str) or not p or len(p) > MAX_PATH:
        raise ManifestError("bad file path %r" % (p,))
    if p.startswith("/") or ".." in p.split("/") or "//" in p or p.endswith("/"):
        raise ManifestError("file path %r must be relative and plain" % p)


def parse(envelope_bytes):
    """-> (manifest dict, manifest_bytes, signature or None); ManifestError if malformed."""
    try:
        env = cbor.loads(envelope_bytes)
        mbytes = env[0]
        sig = env.get(1)
        m = cbor.loads(mbytes)
        version = m[0]
        min_boot = m[1]
        files = m[2]
    except (cbor.CBORError, KeyError, TypeError, IndexError, AttributeError) as e:
        raise ManifestError("malformed update package: %s" % e)
    if not isinstance(version, str) or not isinstance(min_boot, int):
        raise ManifestError("manifest version/min_boot have the wrong types")
    if not isinstance(files, list) or not files or len(files) > MAX_FILES:
        raise ManifestError("manifest must list 1..%d files" % MAX_FILES)
    seen = set()
    for f in files:
        if not isinstance(f, list) or len(f) != 3:
            raise ManifestError("manifest entry %r is not [path, size, sha256]" % (f,))
        _check_path(f[0])
        if not isinstance(f[1], int) or f[1] < 0 or not isinstance(f[2], bytes) \
                or len(f[2]) != 32:
            raise ManifestError("manifest entry for %s has a bad size or hash" % f[0])
        if f[0] in seen:
            raise ManifestError("file %s listed twice" % f[0])
        seen.add(f[0])
    sec = m.get(4)
    if sec is not None and (not isinstance(sec, int) or isinstance(sec, bool) or sec < 0):
        raise ManifestError("manifest security counter must be a whole number >= 0")
    if sig is not None and (not isinstance(sig, bytes) or len(sig) != 64):
        raise ManifestError("signature must be 64 bytes")
    return m, bytes(mbytes), sig
