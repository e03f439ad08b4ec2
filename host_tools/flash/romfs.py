"""ROMFS images: the firmware's .mpy files in one read-only filesystem that MicroPython
(1.25 and later, built with MICROPY_VFS_ROM) mounts at /rom and imports from in place,
so bytecode and strings stay in flash instead of the heap.

The format (MicroPython extmod/vfs_rom.c, the comment at its top; boards/README.md cites
it): every number is a varuint, big-endian base 128 with the high bit set on every byte
but the last (a leading 0x80 byte is padding and changes nothing). Everything is a
record: kind, payload length, payload. The image is one record of kind 0x14A6B1 (encoded
D2 CD 31, "RM1" with high bits) whose payload is the top-level records; its whole size
must be even. Kinds: 1 padding, 2 verbatim data, 3 pointer to data elsewhere, 4 a
directory (name length, name, then its records), 5 a file (name length, name, then its
records: here one verbatim data record). Unknown kinds are skipped by readers.
"""
from host_tools.flash import errors as E

FILESYSTEM = 0x14A6B1
PADDING = 1
DATA = 2
DIRECTORY = 4
FILE = 5
HEADER = b"\xd2\xcd\x31"
KEEP_OUT = ("main.py", "boot.py", "manifest.cbor")  # the device runs / the flasher keeps these


def varuint(n):
    if n < 0:
        raise ValueError("a varuint is never negative")
    out = bytearray((n & 0x7F,))
    n >>= 7
    while n:
        out.insert(0, 0x80 | (n & 0x7F))
        n >>= 7
    return bytes(out)


def record(kind, payload, pad=0):
    """kind, length (with `pad` leading 0x80 bytes), payload."""
    return varuint(kind) + b"\x80" * pad + varuint(len(payload)) + payload


def _named(kind, name, inner):
    raw = name.encode()
    return record(kind, varuint(len(raw)) + raw + inner)


def _tree(files):
    root = {}
    for path, data in files:
        parts = path.split("/")
        d = root
        for p in parts[:-1]:
            d = d.setdefault(p, {})
            if not isinstance(d, dict):
                raise E.TreeError("%s: a file and a folder of the same name" % path)
        if parts[-1] in d:
            raise E.TreeError("%s is in the image twice" % path)
        d[parts[-1]] = bytes(data)
    return root


def _records(d):
    out = b""
    for name in sorted(d):
        v = d[name]
        if isinstance(v, dict):
            out += _named(DIRECTORY, name, _records(v))
        else:
            out += _named(FILE, name, record(DATA, v))
    return out


def build_image(files):
    """The image (bytes) of [(path, bytes)]; paths like "firmware/app.mpy"."""
    body = _records(_tree(files))
    img = record(FILESYSTEM, body)
    if len(img) % 2:
        img = record(FILESYSTEM, body, pad=1)
    return img


def rom_files(files):
    """What goes into the image of a built firmware tree: all but the files the device
    runs by name (main.py, boot.py), which stay on its filesystem."""
    return [(p, d) for p, d in files if p not in KEEP_OUT]


# ---- reading (tests, and the check of what a device holds) -----------------------------
def _uint(b, i, end):
    n = 0
    while True:
        if i >= end:
            raise E.TreeError("ROMFS image cut short inside a number")
        c = b[i]
        i += 1
        n = (n << 7) | (c & 0x7F)
        if not c & 0x80:
            return n, i


def _record(b, i, end):
    kind, i = _uint(b, i, end)
    n, i = _uint(b, i, end)
    if i + n > end:
        raise E.TreeError("ROMFS record of %d bytes runs past its parent" % n)
    return kind, i, i + n


def read_image(img):
    """{path: bytes} of every file in an image; TreeError if it is not a ROMFS image."""
    if len(img) < 4 or img[:3] != HEADER:
        raise E.TreeError("not a ROMFS image (it must start with D2 CD 31)")
    kind, i, end = _record(img, 0, len(img))
    if end != len(img) or len(img) % 2:
        raise E.TreeError("ROMFS image of %d bytes, its record says %d" % (len(img), end))
    out = {}
    _walk(img, i, end, "", out)
    return out


def _walk(b, i, end, prefix, out):
    while i < end:
        kind, start, stop = _record(b, i, end)
        i = stop
        if kind not in (DIRECTORY, FILE):
            continue
        n, j = _uint(b, start, stop)
        name = prefix + bytes(b[j:j + n]).decode()
        j += n
        if kind == DIRECTORY:
            _walk(b, j, stop, name + "/", out)
            continue
        data = b""
        while j < stop:
            k, s, e = _record(b, j, stop)
            j = e
            if k == DATA:
                data += bytes(b[s:e])
        out[name] = data
