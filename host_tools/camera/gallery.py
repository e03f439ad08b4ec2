"""The phone's photo gallery: a folder of JPEGs, each with a JSON sidecar of its metadata
(when it was taken, the board, the glasses' photo id, size, SHA-256, how it was taken).
A photo being received lives in `.partial/` until it is whole and its SHA-256 checks;
only then is it renamed into the gallery, so the gallery never holds half a photo.

    g = Gallery(config.gallery_dir())
    g.photos()              # [Photo], oldest first
    g.delete("20260102-101500-xiao_esp32s3_sense-7")
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time

PARTIAL = ".partial"


@dataclasses.dataclass
class Photo:
    name: str  # file stem
    path: str
    meta: dict

    @property
    def taken(self) -> float:
        return float(self.meta.get("taken", 0))


class Gallery:
    def __init__(self, root: str):
        self.root = root
        self.partial = os.path.join(root, PARTIAL)

    def _ensure(self):
        os.makedirs(self.partial, exist_ok=True)

    # ---- a photo being received -------------------------------------------------------------
    def part_path(self, board: str, pid: int) -> str:
        return os.path.join(self.partial, "%s-%d.part" % (board, pid))

    def held(self, board: str, pid: int) -> int:
        try:
            return os.path.getsize(self.part_path(board, pid))
        except OSError:
            return 0

    def append(self, board: str, pid: int, offset: int, data: bytes) -> int:
        """Add a piece at offset (ignored unless it is the next one); the bytes held."""
        self._ensure()
        path = self.part_path(board, pid)
        held = self.held(board, pid)
        if offset != held:
            return held
        with open(path, "ab") as f:
            f.write(data)  # OSError (ENOSPC: the phone's disk is full) goes to the caller
        return held + len(data)

    def drop_part(self, board: str, pid: int) -> None:
        try:
            os.remove(self.part_path(board, pid))
        except OSError:
            pass

    def finish(self, board: str, pid: int, sha256: bytes, meta: dict) -> Photo:
        """The whole photo into the gallery; ValueError (and the part dropped) if its
        SHA-256 does not match."""
        path = self.part_path(board, pid)
        with open(path, "rb") as f:
            data = f.read()
        if hashlib.sha256(data).digest() != sha256:
            self.drop_part(board, pid)
            raise ValueError("photo %d from %s failed its SHA-256 check" % (pid, board))
        taken = meta.get("taken", time.time())
        name = "%s-%s-%d" % (time.strftime("%Y%m%d-%H%M%S", time.localtime(taken)), board, pid)
        meta = dict(meta, board=board, id=pid, bytes=len(data), sha256=sha256.hex(),
                    taken=taken, received=time.time(), file=name + ".jpg")
        side = os.path.join(self.root, name + ".json")
        with open(side + ".tmp", "w") as f:
            json.dump(meta, f, indent=1, sort_keys=True)
        os.replace(side + ".tmp", side)
        os.replace(path, os.path.join(self.root, name + ".jpg"))
        return Photo(name, os.path.join(self.root, name + ".jpg"), meta)

    def has(self, board: str, pid: int, sha256: bytes) -> bool:
        return any(p.meta.get("board") == board and p.meta.get("id") == pid and
                   p.meta.get("sha256") == sha256.hex() for p in self.photos())

    # ---- the gallery ------------------------------------------------------------------------
    def photos(self) -> list:
        out = []
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            return out
        for n in names:
            if not n.endswith(".jpg"):
                continue
            stem = n[:-4]
            try:
                with open(os.path.join(self.root, stem + ".json")) as f:
                    meta = json.load(f)
            except (OSError, ValueError):
                meta = {}
            out.append(Photo(stem, os.path.join(self.root, n), meta))
        out.sort(key=lambda p: (p.taken, p.name))
        return out

    def find(self, name: str) -> Photo:
        stem = name[:-4] if name.endswith(".jpg") else name
        for p in self.photos():
            if p.name == stem:
                return p
        raise KeyError("no photo %s in %s" % (name, self.root))

    def delete(self, name: str) -> Photo:
        p = self.find(name)
        os.remove(p.path)
        try:
            os.remove(os.path.join(self.root, p.name + ".json"))
        except OSError:
            pass
        return p
