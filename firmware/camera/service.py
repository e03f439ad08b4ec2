# The camera feature: a photo on the wearer's gesture (board option photo_gesture, e.g.
# "long_press back") or the voice action {"type": "photo"} ("take a photo"; with "ask":
# the question about what the camera sees, for the phone's vision backend), kept in a
# bounded store on flash (photos.py) and sent to the phone when it is there (sync.py).
#
# A capture, one at a time, in one task:
# - refused while the glasses are not worn (nothing is captured off the face), when the
#   capture LED is missing or does not read back lit (bystanders must see it), and when
#   the store is full (a spoken notice; nothing is overwritten);
# - the capture LED on for the whole capture (from the sensor's clock to the JPEG on
#   flash), the shutter chime, the CPU held awake;
# - the sensor started, its frame awaited (polled: the scheduler runs meanwhile) for at
#   most camera_frame_ms; no frame or a JPEG cut short is counted, and tried once more
#   from a fresh start; a second failure is said ("The camera did not take the photo").
from micropython import const

from firmware.camera.photos import Photos, PhotosFull
from firmware.camera.sync import PhotoSync
from firmware.drivers.camera import CameraError
from firmware.runtime import rand
from firmware.runtime import sched as _s
from firmware.runtime.sync import Queue

DEFAULTS = {
    "camera_frame_ms": 1500,  # most time from the sensor's start to its frame
    "camera_poll_ms": 20,
    "photos_max": 16,  # photos kept for the phone
    "photos_bytes": 1048576,  # flash for them
}
_TRIES = const(2)
_QUEUE = const(2)
SAY_FULL = "The photo store is full. Photos wait for the phone."
SAY_FAILED = "The camera did not take the photo."
SAY_NO_LED = "The capture light is not working, so I can't take photos."
SAY_BUSY = "Still taking the last photo."


class CameraService:
    def __init__(self, app, photos):
        self.app = app
        b = app.board
        self.board = b
        self.cam = b.camera
        self.led = b.capture_led
        self.log = app.log
        self.clock = app.sched.clock
        c = app.config
        self.cfg = {}
        for k, v in DEFAULTS.items():
            self.cfg[k] = c.get(k, v)
        self.photos = photos
        self.boot_id = rand.bits30()
        self.sync = PhotoSync(app, photos, self.log, self.boot_id) if app.link else None
        self.q = Queue(_QUEUE)
        self.gesture = _gesture(b)
        self.busy = False
        self.counts = {"taken": 0, "refused": 0, "failed": 0, "no_frame": 0,
                       "bad_jpeg": 0, "retries": 0}
        self.last = None  # (id, bytes) of the last photo
        app.on("voice_action", self._on_voice)

    # ---- requests -----------------------------------------------------------------------
    def is_gesture(self, kind, src):
        return self.gesture is not None and self.gesture == (kind, src)

    def take(self, by="gesture", ask=None):
        """Ask for a photo (queued; False if one is queued already)."""
        if self.q.full():
            self._say(SAY_BUSY)
            return False
        self.q.put_nowait((by, ask))
        return True

    def _on_voice(self, act):
        if act.get("type") == "photo":
            ask = act.get("ask")
            self.take("voice", ask if isinstance(ask, str) else None)

    # ---- helpers ------------------------------------------------------------------------
    def _say(self, text):
        v = self.app.voice
        if v is not None:
            v.say(text)

    def _chime(self, name):
        v = self.app.voice
        if v is not None:
            try:
                v.chime(name)
            except ValueError:
                pass

    def _worn(self):
        s = self.app.senses
        return s is None or s.wear.worn()

    def _led_lit(self):
        """Light the capture LED; False if it is missing or its pin does not read lit."""
        led = self.led
        if led is None:
            return False
        led.on()
        try:
            lit = led.pin.value() == (0 if led.active_low else 1)
        except (AttributeError, OSError):
            lit = True  # a pin that cannot be read back: trust the driver
        if not lit:
            led.off()
        return lit

    def _refuse(self, why, say=None):
        self.counts["refused"] += 1
        self.log.warn("camera: no photo:", why)
        if say:
            self._say(say)

    # ---- the task -----------------------------------------------------------------------
    async def run(self):
        while True:
            by, ask = await self.q.get()
            self.busy = True
            try:
                await self._capture(by, ask)
            finally:
                self.busy = False

    async def _capture(self, by, ask):
        if not self._worn():
            return self._refuse("the glasses are not worn")
        if self.photos.room_for(1) is not None:
            return self._refuse(self.photos.room_for(1), SAY_FULL)
        if not self._led_lit():
            return self._refuse("the capture LED is missing or not lit", SAY_NO_LED)
        b = self.board
        b.stay_awake("camera")
        self._chime("shutter")
        t0 = self.clock.ticks_ms()
        try:
            mv = await self._frame()
            if mv is None:
                self.counts["failed"] += 1
                self._say(SAY_FAILED)
                return
            meta = {"by": by, "boot": self.boot_id, "up": t0, "w": self.cam.width,
                    "h": self.cam.height, "q": self.cam.quality, "board": b.name}
            if ask:
                meta["ask"] = ask[:200]
            out = [None]
            try:
                for _ in self.photos.save_steps(mv, meta, out):
                    await _s.sleep_ms(0)
            except PhotosFull as e:
                return self._refuse(str(e), SAY_FULL)
            except OSError as e:
                self.counts["failed"] += 1
                self.log.error("camera: photo not kept:", e)
                self._say(SAY_FAILED)
                return
            finally:
                self.cam.release()
            self.counts["taken"] += 1
            self.last = (out[0], len(mv))
            self.log.info("camera: photo %d, %d bytes, %d ms (%d waiting)" % (
                out[0], len(mv), self.clock.ticks_diff(self.clock.ticks_ms(), t0),
                self.photos.count()))
            if self.sync is not None:
                self.sync.kick()
        finally:
            self.cam.stop()
            self.led.off()
            b.stay_awake("camera", False)

    async def _frame(self):
        """The frame (a memoryview), or None after _TRIES failures."""
        cam = self.cam
        for attempt in range(_TRIES):
            if attempt:
                self.counts["retries"] += 1
                cam.stop()
            try:
                cam.start()
                waited = 0
                while not cam.ready():
                    if waited >= self.cfg["camera_frame_ms"]:
                        raise CameraError("no frame in %d ms" % waited)
                    await _s.sleep_ms(self.cfg["camera_poll_ms"])
                    waited += self.cfg["camera_poll_ms"]
                return cam.grab()
            except CameraError as e:
                self.counts["bad_jpeg" if "JPEG" in str(e) else "no_frame"] += 1
                self.log.warn("camera: try %d: %s" % (attempt + 1, e))
            except OSError as e:  # the sensor's own error (init, capture)
                self.counts["no_frame"] += 1
                self.log.warn("camera: try %d: camera error %s" % (attempt + 1, e))
        return None

    def status(self):
        d = {"waiting": self.photos.count(), "taken": self.counts["taken"],
             "failed": self.counts["failed"], "refused": self.counts["refused"]}
        if self.sync is not None:
            d["delivered"] = self.sync.counts["delivered"]
        return d


def _gesture(board):
    """(gesture kind, pad index) from the board option "photo_gesture" ("long_press back")."""
    g = board.options.get("photo_gesture")
    if not g:
        return None
    parts = g.split()
    if len(parts) != 2:
        return None
    for i, pad in enumerate(board.touch):
        if getattr(pad, "label", None) == parts[1]:
            return (parts[0], i)
    return None


def start(app):
    """The camera feature (the board has a camera and a flash store: firmware/app.py)."""
    b = app.board
    c = app.config
    try:
        photos = Photos(b.store.root + "/photos", c.get("photos_bytes", DEFAULTS["photos_bytes"]),
                        c.get("photos_max", DEFAULTS["photos_max"]))
    except OSError as e:
        app.log.error("camera: no photo store:", e)
        return None
    svc = CameraService(app, photos)
    app.status("camera", svc.status)
    s = app.sched
    s.spawn(svc.run, name="camera", prio=_s.PRIO_BACKGROUND, restart=_s.RESTART_ON_ERROR)
    if svc.sync is not None:
        s.spawn(svc.sync.run, name="photo-sync", prio=_s.PRIO_BACKGROUND,
                restart=_s.RESTART_ON_ERROR)
    if photos.count():
        app.log.info("camera: %d photos wait for the phone" % photos.count())
    return svc
