# The photos waiting for the phone, on the glasses' flash: <id>.jpg and its metadata
# <id>.cbor in one folder, bounded by a photo count and a byte budget. A photo exists once
# its metadata does: the JPEG goes to <id>.jpg.tmp in pieces (a scheduler yield between
# them), is renamed, then the metadata is written atomically (firmware/runtime/store.py);
# a reset in between leaves a JPEG without metadata, which the next start removes. Ids
# only grow (the next one is kept in flash), so the phone never sees one twice; a photo
# is deleted only when the phone says it has it (firmware/camera/sync.py). A full store
# refuses (PhotosFull) before anything is written: nothing is ever overwritten.
import hashlib
import os

from micropython import const

from firmware.runtime.store import Store, StoreError

_PIECE = const(4096)  # bytes written per step
_NEXT = "next"
_JPG = ".jpg"


class PhotosFull(StoreError):
    pass


def _id_of(name):
    if not name.endswith(_JPG):
        return -1
    stem = name[:-len(_JPG)]
    return int(stem) if stem.isdigit() else -1


class Photos:
    def __init__(self, root, capacity_bytes, max_photos):
        self.meta = Store(root)  # <id>.cbor and "next" (atomic small files)
        self.root = self.meta.root
        self.capacity_bytes = capacity_bytes
        self.max_photos = max_photos
        self.ids = []  # waiting photos, oldest first
        self.sizes = {}
        for name in os.listdir(self.root):
            if name.endswith(".tmp"):
                self._rm(name)
                continue
            i = _id_of(name)
            if i < 0:
                continue
            if self.meta.read_cbor("%d.cbor" % i) is None:  # cut before its metadata
                self._rm(name)
                continue
            self.ids.append(i)
            self.sizes[i] = os.stat(self._path(i))[6]
        self.ids.sort()
        last = self.ids[-1] + 1 if self.ids else 1
        n = self.meta.read_cbor(_NEXT, 1)
        self.next = n if isinstance(n, int) and n >= last else last

    def _path(self, i):
        return "%s/%d%s" % (self.root, i, _JPG)

    def _rm(self, name):
        try:
            os.remove(self.root + "/" + name)
        except OSError:
            pass

    def used_bytes(self):
        total = 0
        for i in self.ids:
            total += self.sizes[i]
        return total

    def count(self):
        return len(self.ids)

    def room_for(self, nbytes):
        """Why a photo of nbytes cannot be kept (None: it can)."""
        if len(self.ids) >= self.max_photos:
            return "%d photos wait for the phone" % len(self.ids)
        if self.used_bytes() + nbytes > self.capacity_bytes:
            return "the photo store is full (%d KB)" % (self.capacity_bytes // 1024)
        free = self.meta.free_bytes()
        if 0 <= free < nbytes + 1024:
            return "the flash is full"
        return None

    def save_steps(self, jpeg, meta, out):
        """Keep a photo (jpeg: bytes or a memoryview); a generator of steps. out[0]: its
        id. PhotosFull (nothing written) when there is no room; OSError from the flash."""
        n = len(jpeg)
        why = self.room_for(n)
        if why is not None:
            raise PhotosFull(why)
        i = self.next
        self.next = i + 1
        self.meta.write_cbor(_NEXT, self.next)
        path = self._path(i)
        tmp = path + ".tmp"
        h = hashlib.sha256()
        try:
            with open(tmp, "wb") as f:
                off = 0
                while off < n:
                    piece = jpeg[off:off + _PIECE]
                    f.write(piece)
                    h.update(piece)
                    off += len(piece)
                    yield
            os.rename(tmp, path)
            m = dict(meta)
            m["bytes"] = n
            m["sha256"] = h.digest()
            self.meta.write_cbor("%d.cbor" % i, m)
        except OSError:
            self._rm("%d%s.tmp" % (i, _JPG))
            self._rm("%d%s" % (i, _JPG))
            raise
        self.ids.append(i)
        self.sizes[i] = n
        out[0] = i

    def info(self, i):
        """The photo's metadata (bytes, sha256, what the camera service recorded)."""
        return self.meta.read_cbor("%d.cbor" % i)

    def read(self, i, offset, n):
        """Up to n bytes of photo i from offset."""
        with open(self._path(i), "rb") as f:
            f.seek(offset)
            return f.read(n)

    def delete(self, i):
        if i in self.ids:
            self.ids.remove(i)
            del self.sizes[i]
        self._rm("%d%s" % (i, _JPG))
        self.meta.remove("%d.cbor" % i)
