"""Photos from the glasses on the phone's side of the link (kinds 56..59, docs/camera.md):
`attach(phone)` routes PHOTO_OFFER and PHOTO_DATA, keeps each photo's bytes in the
gallery's `.partial/` folder as they come (so a dropped link or a restarted host resumes
from what is held: PHOTO_WANT says the offset), checks the SHA-256 of the whole photo,
moves it into the gallery with its metadata, and only then answers PHOTO_DONE ok (the
glasses delete it). A full disk answers not ok: the glasses keep the photo and offer it
again later.

A photo taken with a question ("what am I looking at": its metadata's "ask") goes, once
saved, to the vision backend when one is configured (host_tools/camera/vision.py,
GLASSES_VISION_URL); its answer (or why there is none) rides on PHOTO_DONE {4: text}, and
the glasses say it. Without one the voice intent has said so already. A photo taken to
be read ("read this": ask READ_ASK) goes to the offline text reader instead
(host_tools/camera/ocr.py: RapidOCR in a worker process, started on first use, stopped
by close()); the text, or why there is none, rides on PHOTO_DONE the same way.

    cams = attach(phone, gallery_dir="~/Pictures/glasses", on_photo=print)
    await cams.wait_photos(1, timeout_s=30)
"""
from __future__ import annotations

import asyncio
import logging
import time

import host_tools  # noqa: F401  (MicroPython mirrors for the shared firmware code)
from firmware.protocol import kinds
from firmware.protocol.channels import FILE
from host_tools import config
from host_tools.camera.gallery import Gallery
from host_tools.camera.ocr import READ_ASK, TextReader
from host_tools.camera.vision import VisionBackend

K = kinds.K
log = logging.getLogger(__name__)


class CameraHost:
    def __init__(self, phone, gallery_dir=None, on_photo=None, clock=time.time, vision=False,
                 reader=False):
        self.phone = phone
        self.vision = VisionBackend.from_env() if vision is False else vision
        self.reader = TextReader.from_env() if reader is False else reader  # no process yet
        self.answers = []  # (photo name, question, what the glasses were told)
        self.read_ms = []  # real ms from a saved photo to its text (the reader's round trip)
        self._tasks = set()
        self.gallery = Gallery(config.gallery_dir(gallery_dir))
        self.on_photo = on_photo
        self.clock = clock
        self.offers = {}  # photo id -> (bytes, sha256, metadata) offered now
        self.saved = []  # Photo, in the order they came
        self.counts = {"offers": 0, "pieces": 0, "bytes": 0, "saved": 0, "bad": 0,
                       "refused": 0}
        self._changed = asyncio.Event()
        phone.route(kinds.PHOTO_OFFER, self._on_offer)
        phone.route(kinds.PHOTO_DATA, self._on_data)
        phone.camera = self

    def _board(self):
        peer = getattr(self.phone, "peer", None) or {}
        return str(peer.get("board") or "glasses")

    def _send(self, msg):
        if not self.phone.send(FILE, msg):
            log.warning("camera: the file outbox to the glasses is full; answer dropped")

    def _on_offer(self, msg):
        pid, size, sha, meta = msg.get(1), msg.get(2), msg.get(3), msg.get(4) or {}
        if not isinstance(pid, int) or not isinstance(size, int) or not isinstance(sha, bytes):
            log.warning("camera: bad photo offer %r", msg)
            return
        self.counts["offers"] += 1
        board = self._board()
        if self.gallery.has(board, pid, sha):  # saved already: the DONE was lost
            self._send({K: kinds.PHOTO_DONE, 1: pid, 2: True, 3: "saved already"})
            return
        m = dict(meta)
        age = m.pop("age_ms", None)
        now = self.clock()
        if isinstance(age, int):
            m["taken"] = now - age / 1000.0
        else:
            m["taken"] = now
            m["time_approximate"] = True  # taken before the glasses last restarted
        self.offers[pid] = (size, sha, m)
        held = self.gallery.held(board, pid)
        if held > size:
            self.gallery.drop_part(board, pid)
            held = 0
        self._send({K: kinds.PHOTO_WANT, 1: pid, 2: held})
        if held == size:
            self._complete(board, pid)

    def _on_data(self, msg):
        pid, off, data = msg.get(1), msg.get(2), msg.get(3)
        if pid not in self.offers or not isinstance(data, bytes) or not isinstance(off, int):
            return
        board = self._board()
        size = self.offers[pid][0]
        try:
            held = self.gallery.append(board, pid, off, data)
        except OSError as e:
            self.counts["refused"] += 1
            self.gallery.drop_part(board, pid)
            self.offers.pop(pid, None)
            self._send({K: kinds.PHOTO_DONE, 1: pid, 2: False,
                        3: "the phone cannot store it: %s" % e})
            return
        self.counts["pieces"] += 1
        self.counts["bytes"] += len(data)
        if held >= size:
            self._complete(board, pid)

    def _complete(self, board, pid):
        size, sha, meta = self.offers.pop(pid)
        try:
            photo = self.gallery.finish(board, pid, sha, meta)
        except ValueError as e:
            self.counts["bad"] += 1
            log.warning("camera: %s; asking again", e)
            self.offers[pid] = (size, sha, meta)
            self._send({K: kinds.PHOTO_WANT, 1: pid, 2: 0})
            return
        except OSError as e:
            self.counts["refused"] += 1
            self._send({K: kinds.PHOTO_DONE, 1: pid, 2: False,
                        3: "the phone cannot store it: %s" % e})
            return
        self.counts["saved"] += 1
        self.saved.append(photo)
        log.info("camera: photo saved: %s (%d bytes)", photo.path, photo.meta["bytes"])
        ask = photo.meta.get("ask")
        job = None
        if ask == READ_ASK and self.reader is not None:
            job = self._read(pid, photo)
        elif ask and ask != READ_ASK and self.vision is not None:
            job = self._look(pid, photo, ask)
        if job is not None:
            t = asyncio.get_running_loop().create_task(job)
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)
        else:
            self._send({K: kinds.PHOTO_DONE, 1: pid, 2: True, 3: None})
        self._changed.set()
        if self.on_photo is not None:
            self.on_photo(photo)

    async def _look(self, pid, photo, ask):
        """The vision backend's answer about a saved photo, to the glasses to say."""
        with open(photo.path, "rb") as f:
            jpeg = f.read()
        # a network call (not compute): in the simulator's virtual time the clock stands
        # still while it is out (sim/kernel.py hold), so its own timeout is real seconds
        hold = getattr(asyncio.get_running_loop(), "hold", None)
        if hold is None:
            text = await asyncio.to_thread(self.vision.answer, ask, jpeg)
        else:
            with hold(self.vision.timeout_s + 5):
                text = await asyncio.to_thread(self.vision.answer, ask, jpeg)
        self.answers.append((photo.name, ask, text))
        self._send({K: kinds.PHOTO_DONE, 1: pid, 2: True, 3: None, 4: text})

    async def _read(self, pid, photo):
        """The text in a saved photo, read offline, to the glasses to say."""
        with open(photo.path, "rb") as f:
            jpeg = f.read()
        t0 = time.monotonic()
        text = await self.reader.answer_async(jpeg)
        self.read_ms.append((time.monotonic() - t0) * 1000)
        self.answers.append((photo.name, READ_ASK, text))
        self._send({K: kinds.PHOTO_DONE, 1: pid, 2: True, 3: None, 4: text})

    def close(self):
        """Stop the text reader's worker process, if it was started."""
        if self.reader is not None:
            self.reader.close()

    async def wait_photos(self, n, timeout_s=30.0):
        """Until n photos were saved since attach (asyncio.TimeoutError otherwise)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while len(self.saved) < n:
            self._changed.clear()
            await asyncio.wait_for(self._changed.wait(), max(0.0, deadline - loop.time()))
        return self.saved[:n]


def attach(phone, **kw) -> CameraHost:
    """Photos from the glasses on this Phone (see CameraHost for the keywords)."""
    return CameraHost(phone, **kw)
