# Photos to the phone over the FILE channel (kinds.py 56..59, docs/camera.md), the
# oldest first, one at a time:
#   glasses: PHOTO_OFFER {id, bytes, sha256, metadata}
#   phone:   PHOTO_WANT {id, offset}      (what its partial file already holds)
#   glasses: PHOTO_DATA {id, offset, bytes} ... to the end, as the FILE outbox takes them
#   phone:   PHOTO_DONE {id, ok}          (saved and checked: the glasses delete it)
# The reliable channel resends what a dropped link lost, exactly once, within a session;
# when the session starts over (the phone restarted, or another phone) the photo is
# offered again and the phone answers with the offset it holds, so a transfer resumes.
# While no phone is there photos stay; a refusal (not ok) keeps the photo, offered again
# after RETRY_MS or at the next link up.
from micropython import const

from firmware.protocol import kinds
from firmware.protocol.channels import FILE, LinkError
from firmware.runtime import sched as _s
from firmware.runtime.sync import Flag

CHUNK_BYTES = const(1984)  # data per PHOTO_DATA: within MAX_MESSAGE[FILE] with its header
RETRY_MS = const(30000)
_K = kinds.K


class PhotoSync:
    def __init__(self, app, photos, log, boot_id):
        self.app = app
        self.boot_id = boot_id  # this boot's: a photo of an earlier boot has no known age
        self.link = app.link
        self.photos = photos
        self.log = log
        self.clock = app.sched.clock
        self.flag = Flag(app.sched)
        self.cur = None  # the photo offered now
        self.size = 0
        self.off = -1  # next offset to send (-1: the phone has not said where from)
        self.hold_until = None  # after a refusal: no offer before this tick
        self.counts = {"offered": 0, "chunks": 0, "sent_bytes": 0, "delivered": 0,
                       "refused": 0}
        self.last_error = None
        link = self.link
        link.route(kinds.PHOTO_WANT, self._on_want)
        link.route(kinds.PHOTO_DONE, self._on_done)
        link.on("up", self._on_up)
        link.on("room", self._on_room)

    def kick(self):
        self.flag.set()

    # ---- from the link ------------------------------------------------------------------
    def _on_up(self, up):
        if up:
            peer = self.link.peer or {}
            if not peer.get("resumed"):
                self.cur = None  # a new session: offer again; the phone says its offset
                self.off = -1
            self.hold_until = None
        self.flag.set()

    def _on_room(self, ch):
        if ch == FILE:
            self.flag.set()

    def _on_want(self, msg):
        i, off = msg.get(1), msg.get(2)
        if i == self.cur and isinstance(off, int) and 0 <= off <= self.size:
            self.off = off
            self.flag.set()

    def _on_done(self, msg):
        i = msg.get(1)
        if i != self.cur:
            return
        if msg.get(2) is True:
            say = msg.get(4)  # the phone's answer about the photo ("what am I looking at")
            v = self.app.voice
            if isinstance(say, str) and say and v is not None:
                v.say(say[:400])
            self.photos.delete(i)
            self.counts["delivered"] += 1
            self.log.info("camera: photo %d is on the phone (%d left)" % (i, self.photos.count()))
        else:
            self.counts["refused"] += 1
            self.last_error = str(msg.get(3))
            self.log.warn("camera: the phone did not keep photo %d: %s" % (i, self.last_error))
            self.hold_until = self.clock.ticks_add(self.clock.ticks_ms(), RETRY_MS)
        self.cur = None
        self.off = -1
        self.flag.set()

    # ---- the task -----------------------------------------------------------------------
    def _send(self, msg):
        try:
            return self.link.send(FILE, msg)
        except LinkError as e:
            self.log.error("camera: not sent", e)
            return True

    def _held(self):
        c = self.clock
        if self.hold_until is None:
            return False
        if c.ticks_diff(self.hold_until, c.ticks_ms()) > 0:
            return True
        self.hold_until = None
        return False

    def _offer(self):
        """Offer the oldest photo; False if the outbox had no room."""
        i = self.photos.ids[0]
        m = self.photos.info(i)
        if m is None:  # metadata gone bad: nothing to send it with
            self.log.warn("camera: photo %d has no metadata: removed" % i)
            self.photos.delete(i)
            return True
        meta = {}
        for k, v in m.items():
            if k not in ("bytes", "sha256", "boot", "up"):
                meta[k] = v
        if m.get("boot") == self.boot_id:
            meta["age_ms"] = self.clock.ticks_diff(self.clock.ticks_ms(), m.get("up", 0))
        self.cur = i  # before sending: the answer may come back at once
        self.size = m["bytes"]
        self.off = -1
        if not self._send({_K: kinds.PHOTO_OFFER, 1: i, 2: m["bytes"], 3: m["sha256"],
                           4: meta}):
            self.cur = None
            return False
        self.counts["offered"] += 1
        return True

    def _chunk(self):
        """Send the next piece of the current photo; False if the outbox had no room."""
        i, off = self.cur, self.off
        try:
            data = self.photos.read(i, off, CHUNK_BYTES)
        except OSError as e:
            self.log.error("camera: photo %d unreadable, removed: %s" % (i, e))
            self.photos.delete(i)
            self.cur = None
            return True
        self.off = off + len(data)
        if not self._send({_K: kinds.PHOTO_DATA, 1: i, 2: off, 3: data}):
            if self.cur == i and self.off == off + len(data):
                self.off = off
            return False
        self.counts["chunks"] += 1
        self.counts["sent_bytes"] += len(data)
        return True

    async def run(self):
        while True:
            self.flag.clear()
            link = self.link
            sent = True
            if link.up and self.photos.ids:
                if self.cur is None and not self._held():
                    sent = self._offer()
                elif self.cur is not None and 0 <= self.off < self.size:
                    sent = self._chunk()
                    if sent:
                        await _s.sleep_ms(0)  # one piece per slice
                        continue
            if not sent:
                await self.flag.wait(1000)  # room comes back as the phone acknowledges
                continue
            await self.flag.wait(RETRY_MS if self.hold_until is not None else 5000)
