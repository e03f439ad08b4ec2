"""Build (and sign) update packages for `glasses ota`.

A package holds the firmware tree (firmware/**.py) and the board's board.py, with a
manifest of SHA-256 hashes (firmware/ota/manifest.py: the same code the glasses use to
check it). Signing uses Ed25519 (PyPI cryptography); keys live in the host config dir.

Two forms: the *envelope* {0: manifest bytes, 1: signature | null} is what the glasses
receive first (OTA_BEGIN) and check; the *package file* (`glasses ota build -o FILE`) is
the envelope plus the files' contents {..., 2: [bytes per manifest entry]}, which the
sender cuts into OTA_CHUNKs. manifest.parse() reads either.
"""
import os

from firmware.runtime import cbor
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import host_tools  # noqa: F401  (MicroPython mirrors for the shared firmware code)
from firmware.ota import manifest
from host_tools.config import config_dir, private_dir  # noqa: F401  (config_dir: cli/ota.py)
from host_tools.errors import PackageError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))




def firmware_version(root=ROOT, name="VERSION", kind=str):
    """The tree's firmware/version.py VERSION (or its SECURITY counter: name, kind=int)."""
    from host_tools.flash.build import read_version
    path = os.path.join(root, "firmware", "version.py")
    v = read_version(path, name, kind)
    if v is None:
        raise PackageError("no %s in %s" % (name, path))
    return v


def security_counter(root=ROOT):
    return firmware_version(root, "SECURITY", int)


def collect(root=ROOT, board=None):
    """[(device path, bytes)] for the firmware tree and the board's board.py."""
    files = []
    fw = os.path.join(root, "firmware")
    for dirpath, dirs, names in os.walk(fw):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for n in sorted(names):
            if n.endswith(".py"):
                full = os.path.join(dirpath, n)
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                with open(full, "rb") as f:
                    files.append((rel, f.read()))
    if board:
        bp = os.path.join(root, "boards", board, "board.py")
        if not os.path.exists(bp):
            raise PackageError("unknown board %r (no %s)" % (board, bp))
        with open(bp, "rb") as f:
            files.append(("board.py", f.read()))
    if not files:
        raise PackageError("nothing to package under %s" % fw)
    return files


def keygen(path=None):
    """Create an Ed25519 key pair; returns (private key path, public key bytes)."""
    path = path or os.path.join(config_dir(), "ota_signing_key.pem")
    if os.path.exists(path):
        raise PackageError("%s exists; remove it first if you really want a new key" % path)
    private_dir(os.path.dirname(os.path.abspath(path)))
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return path, public_key(path)


def _load(path):
    try:
        with open(path, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), password=None)
    except (OSError, ValueError) as e:
        raise PackageError("cannot read signing key %s: %s" % (path, e)) from e
    if not isinstance(key, Ed25519PrivateKey):
        raise PackageError("%s is not an Ed25519 key" % path)
    return key


def public_key(path):
    return _load(path).public_key().public_bytes(serialization.Encoding.Raw,
                                                 serialization.PublicFormat.Raw)


def build(files, version, key_path=None, board=None, security=None):
    """The package bytes (envelope) for [(path, bytes)]. security: its counter (default:
    the tree's firmware/version.py SECURITY)."""
    mbytes = manifest.build(version, files, board=board, security=security_counter()
                            if security is None else security)
    sig = _load(key_path).sign(mbytes) if key_path else None
    return manifest.envelope(mbytes, sig)


def build_file(files, version, key_path=None, board=None, security=None):
    """The package file bytes: the envelope plus every file's contents."""
    mbytes = manifest.build(version, files, board=board, security=security_counter()
                            if security is None else security)
    sig = _load(key_path).sign(mbytes) if key_path else None
    return cbor.dumps({0: mbytes, 1: sig, 2: [d for _, d in files]})


def open_package(data):
    """(envelope bytes, manifest dict, [file bytes]) from a package file; PackageError if
    it is not one, or a file does not match its hash."""
    try:
        m, mbytes, sig = manifest.parse(data)
        datas = cbor.loads(data)[2]
    except (manifest.ManifestError, cbor.CBORError, KeyError, TypeError) as e:
        raise PackageError("not an update package file: %s" % e) from None
    if not isinstance(datas, list) or len(datas) != len(m[2]):
        raise PackageError("package file holds %s files, its manifest lists %d" % (
            len(datas) if isinstance(datas, list) else "no", len(m[2])))
    for (path, size, digest), d in zip(m[2], datas):
        if not isinstance(d, bytes) or len(d) != size or manifest.sha256(d) != digest:
            raise PackageError("%s in the package does not match its manifest entry" % path)
    return manifest.envelope(mbytes, sig), m, datas


def with_version(files, version):
    """The same files with firmware/version.py saying `version` (for test packages)."""
    out = []
    for p, d in files:
        if p == "firmware/version.py":
            lines = [b'VERSION = "%s"' % version.encode() if ln.startswith(b"VERSION")
                     else ln for ln in d.split(b"\n")]
            d = b"\n".join(lines)
        out.append((p, d))
    return out
