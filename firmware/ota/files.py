# Files on the glasses' flash for updates: sizes, folders made and cleared, bytes under a
# folder, SHA-256 of a file in steps (a generator that yields every few blocks, so a
# scheduler task can hash a large file without holding the CPU).
import hashlib
import os

from micropython import const

_BLOCK = const(512)
_BLOCKS_PER_STEP = const(8)  # 4 KB hashed per step
_MAX_DEPTH = const(8)


class TreeTooDeep(OSError):
    pass


def size_of(path):
    try:
        return os.stat(path)[6]
    except OSError:
        return -1


def makedirs(path):
    cur = "/" if path.startswith("/") else ""
    for part in path.split("/"):
        if not part:
            continue
        cur = cur + part if cur in ("", "/") else cur + "/" + part
        if size_of(cur) < 0:
            os.mkdir(cur)


def is_dir(path):
    try:
        return os.stat(path)[0] & 0x4000 != 0
    except OSError:
        return False


def rmtree(path, depth=0):
    if depth > _MAX_DEPTH:
        raise TreeTooDeep("folder tree too deep to clear: %s" % path)
    if size_of(path) < 0:
        return
    for name in os.listdir(path):
        p = path + "/" + name
        if is_dir(p):
            rmtree(p, depth + 1)
        else:
            os.remove(p)
    os.rmdir(path)


def tree_bytes(path, depth=0):
    """Bytes in the files under a folder (0 if it does not exist)."""
    if depth > _MAX_DEPTH or size_of(path) < 0:
        return 0
    if not is_dir(path):
        return size_of(path)
    total = 0
    for name in os.listdir(path):
        total += tree_bytes(path + "/" + name, depth + 1)
    return total


def file_sha256_steps(path, out, blocks_per_step=_BLOCKS_PER_STEP):
    """Generator: out[0] = SHA-256 of the file, yielding every blocks_per_step blocks."""
    h = hashlib.sha256()
    buf = bytearray(_BLOCK)
    mv = memoryview(buf)
    n_blocks = 0
    with open(path, "rb") as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(mv[:n])
            n_blocks += 1
            if n_blocks % blocks_per_step == 0:
                yield
    out[0] = h.digest()


def file_sha256(path):
    out = [None]
    for _ in file_sha256_steps(path, out):
        pass
    return out[0]


def manifest_digest(path):
    """SHA-256 of a copy's manifest file, or None if it has none."""
    if size_of(path) < 0:
        return None
    return file_sha256(path)
