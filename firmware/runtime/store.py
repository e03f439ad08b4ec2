# Small files on the board's flash, written atomically: the new content goes to NAME.tmp,
# is flushed, then renamed over NAME. A reset at any point leaves either the old or the
# new file, never a torn one (a leftover .tmp is overwritten by the next write).
#
# `capacity_bytes` caps what this store may hold in total (a partition budget); on a board
# the filesystem's own free space (os.statvfs) is also checked. Both raise StoreFull
# before anything is written, so a full flash loses nothing that was already there.
import os

from micropython import const

from firmware.runtime import cbor

_ENOSPC = const(28)  # MicroPython's errno for a full littlefs/FAT volume


class StoreError(OSError):
    pass


class StoreFull(StoreError):
    pass


def _join(root, name):
    if not name or "/" in name or name.startswith("."):
        raise StoreError("bad file name %r (plain names only)" % (name,))
    return root + "/" + name if root else name


def _size(path):
    try:
        return os.stat(path)[6]
    except OSError:
        return 0


def _exists(path):
    # Error numbers differ between ports (a POSIX-backed VFS reports the host's), so
    # "missing" is decided by stat, not by errno.
    try:
        os.stat(path)
        return True
    except OSError:
        return False


class Store:
    def __init__(self, root, capacity_bytes=0):
        self.root = root.rstrip("/") if root != "/" else ""
        self.capacity_bytes = capacity_bytes  # 0: only the filesystem's free space counts
        self.writes = 0
        if self.root and not _exists(self.root):
            try:
                os.mkdir(self.root)
            except OSError as e:
                raise StoreError("cannot create store folder %s: %s" % (self.root, e))

    def names(self):
        return [n for n in os.listdir(self.root or "/") if not n.endswith(".tmp")]

    def used_bytes(self):
        total = 0
        for n in self.names():
            total += _size(_join(self.root, n))
        return total

    def free_bytes(self):
        """Bytes this store may still write (the smaller of its budget and the disk's)."""
        free = -1
        if self.capacity_bytes:
            free = self.capacity_bytes - self.used_bytes()
        try:
            st = os.statvfs(self.root or "/")
            disk = st[0] * st[3]
            if free < 0 or disk < free:
                free = disk
        except (OSError, AttributeError):
            pass
        return free

    def read(self, name):
        """The file's bytes, or None if it does not exist."""
        path = _join(self.root, name)
        for p in (path, path + ".tmp"):
            # NAME.tmp counts only when NAME is gone: then it is the complete new copy
            # of a FAT-style replace that a reset interrupted (see write()).
            try:
                with open(p, "rb") as f:
                    return f.read()
            except OSError:
                if _exists(p):
                    raise
        return None

    def write(self, name, data):
        path = _join(self.root, name)
        tmp = path + ".tmp"
        grow = len(data) - _size(path)
        free = self.free_bytes()
        if free >= 0 and grow > 0 and grow > free:
            raise StoreFull("flash full: %s needs %d more bytes, %d free" % (name, grow, free))
        try:
            with open(tmp, "wb") as f:
                f.write(data)
        except OSError as e:
            self._discard(tmp)
            if e.args[0] == _ENOSPC:
                raise StoreFull("flash full while writing %s" % name)
            raise
        try:
            os.rename(tmp, path)
        except OSError:
            # Filesystems that refuse to rename over an existing file (FAT): the old file
            # goes first. The .tmp copy is complete, so read() falls back to it.
            self._discard(path)
            os.rename(tmp, path)
        self.writes += 1

    def _discard(self, path):
        try:
            os.remove(path)
        except OSError:
            pass

    def remove(self, name):
        self._discard(_join(self.root, name))

    def read_cbor(self, name, default=None):
        data = self.read(name)
        if data is None:
            return default
        try:
            return cbor.loads(data)
        except cbor.CBORError:
            return default

    def write_cbor(self, name, value):
        self.write(name, cbor.dumps(value))
