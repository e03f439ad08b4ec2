# The camera feature (firmware/camera/): a capture on the gesture or the voice action,
# its refusals, the camera's faults, the bounded store, and the photos' way to the phone
# across drops and a phone restart. CPython and MicroPython.
import hashlib

from camera_helpers import K, Rig

from firmware.camera.photos import Photos
from firmware.protocol import kinds

# A link, a host session, 16 KB frames: the camera double's frame buffer (PSRAM on the
# board, the C module's) and the phone's copies of it are in this heap too.
FILE_HEAP_BUDGET = 256 * 1024
_PHOTO_TESTS = ("test_a_photo_reaches_the_phone_and_is_deleted_only_then",
                "test_a_camera_that_does_not_answer_is_tried_once_more_then_said",
                "test_a_full_store_refuses_and_never_overwrites",
                "test_a_drop_at_every_chunk_and_a_phone_restart_resume_the_photo",
                "test_a_refusal_keeps_the_photo_for_later_and_photos_survive_a_restart")
HEAP_BUDGET = dict((t, 112 * 1024) for t in _PHOTO_TESTS)
HEAP_BUDGET["test_a_drop_at_every_chunk_and_a_phone_restart_resume_the_photo"] = 136 * 1024


def test_a_photo_reaches_the_phone_and_is_deleted_only_then():
    r = Rig()
    yield from r.connect()
    photos = r.svc.photos
    r.app.emit("voice_action", {"type": "photo"})  # "take a photo"
    yield from r.steps(200)
    assert r.svc.counts["taken"] == 1, (r.svc.counts, r.sched.log)
    assert r.cam.led_during == [True]  # the capture LED was lit while it shot
    assert not r.board.capture_led.is_on() and not r.cam.on  # both off again
    assert r.board.awake_reasons() == ()
    yield from r.steps(3000)
    ph = r.phone
    assert len(ph.saved) == 1 and photos.count() == 0, (ph.saved.keys(), photos.ids)
    data = ph.saved[1]
    assert len(data) == 16000 and data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    offer = ph.offers[0]
    assert offer[2] == 16000 and offer[3] == hashlib.sha256(data).digest()
    meta = offer[4]
    assert meta["by"] == "voice" and meta["w"] == 640 and meta["h"] == 480
    assert 0 <= meta["age_ms"] < 3000, meta
    assert r.svc.sync.counts["delivered"] == 1


def test_the_board_gesture_takes_a_photo_and_refusals_take_none():
    r = Rig(options={"photo_gesture": "long_press back"}, worn=False)
    # no pads on this test board: the gesture is not armed
    assert r.svc.gesture is None and not r.svc.is_gesture("long_press", 1)
    r.svc.gesture = ("long_press", 1)
    assert r.svc.is_gesture("long_press", 1) and not r.svc.is_gesture("long_press", 0)
    r.svc.take("gesture")  # not worn: nothing is captured
    yield from r.steps(200)
    assert r.cam.inits == 0 and r.svc.photos.count() == 0
    assert r.svc.counts["refused"] == 1
    r.wear(True)
    r.svc.take("gesture")
    yield from r.steps(200)
    assert r.svc.photos.count() == 1 and r.svc.photos.info(1)["by"] == "gesture"


def test_no_capture_led_no_photo():
    r = Rig(led=False)
    r.svc.take()
    yield from r.steps(200)
    assert r.cam.inits == 0 and r.svc.photos.count() == 0 and r.svc.counts["refused"] == 1


def test_a_camera_that_does_not_answer_is_tried_once_more_then_said():
    r = Rig()
    r.cam.stall = 1  # no frame the first time: the retry takes it
    r.svc.take()
    yield from r.steps(4000)
    c = r.svc.counts
    assert c["taken"] == 1 and c["retries"] == 1 and c["no_frame"] == 1, c
    r.cam.stall = 2
    r.svc.take()
    yield from r.steps(4000)
    assert c["taken"] == 1 and c["failed"] == 1 and c["no_frame"] == 3, c
    assert r.cam.inits == 4 and not r.cam.on and not r.board.capture_led.is_on()
    r.cam.cut = 2  # two JPEGs cut short
    r.svc.take()
    yield from r.steps(4000)
    assert c["bad_jpeg"] == 2 and c["failed"] == 2 and r.svc.photos.count() == 1, c


def test_a_full_store_refuses_and_never_overwrites():
    r = Rig(config={"photos_max": 2})
    for _ in range(3):
        r.svc.take()
        yield from r.steps(300)
    p = r.svc.photos
    assert p.ids == [1, 2] and r.svc.counts["refused"] == 1, (p.ids, r.svc.counts)
    first = p.read(1, 0, 100)
    r2 = Rig(config={"photos_bytes": 30000})  # room for one 16 KB photo
    for _ in range(2):
        r2.svc.take()
        yield from r2.steps(300)
    assert r2.svc.photos.ids == [1] and r2.svc.counts["refused"] == 1
    assert p.read(1, 0, 100) == first


def test_a_drop_at_every_chunk_and_a_phone_restart_resume_the_photo():
    r = Rig()
    r.cam.frame_bytes = 12000
    r.svc.take()
    yield from r.steps(300)
    assert r.svc.photos.count() == 1
    seen = [0]
    # after every piece the phone gets, the glasses' radio takes nothing more: the link
    # is then dropped and comes back
    r.gatt.tap = lambda frame: r.phone.data_msgs == seen[0]
    yield from r.connect()
    drops = 0
    for _ in range(200):
        if r.phone.saved:
            break
        yield from r.steps(20)
        if r.phone.data_msgs > seen[0]:
            r.drop()
            drops += 1
            yield from r.steps(100)
            seen[0] = r.phone.data_msgs
            yield from r.connect()
    assert drops >= 6, drops  # 12000 bytes: 7 pieces
    assert list(r.phone.saved) == [1] and len(r.phone.saved[1]) == 12000
    assert r.svc.photos.count() == 0
    # a phone restart in the middle of the next photo: it is offered again and resumes
    r.gatt.tap = lambda frame: len(r.phone.held.get(2, b"")) < 4000  # then the link goes
    r.svc.take()
    yield from r.steps(1300)
    held = len(r.phone.held.get(2, b""))
    assert 0 < held < 12000, held
    r.drop()
    r.gatt.tap = None
    r.new_host(session_id=78)
    yield from r.connect()
    yield from r.steps(3000)
    assert 2 in r.phone.saved and len(r.phone.saved[2]) == 12000
    offers = [o for o in r.phone.offers if o[1] == 2]
    assert len(offers) == 2  # offered again to the new session, sent from what it held
    assert r.svc.photos.count() == 0


def test_a_refusal_keeps_the_photo_for_later_and_photos_survive_a_restart():
    r = Rig()
    r.phone.refuse = "the phone's disk is full"
    r.svc.take()
    yield from r.steps(300)
    yield from r.connect()
    yield from r.steps(3000)
    assert r.svc.photos.count() == 1 and r.svc.sync.counts["refused"] == 1
    assert "disk is full" in r.svc.sync.last_error
    root = r.svc.photos.root
    # a reset: the store comes back with the photo; a JPEG cut before its metadata goes
    with open(root + "/9.jpg", "wb") as f:
        f.write(b"\xff\xd8half")
    p = Photos(root, 1 << 20, 16)
    assert p.ids == [1] and p.next == 2
    r.phone.refuse = None
    yield from r.steps(31000)  # offered again after the retry delay
    assert list(r.phone.saved) == [1] and r.svc.photos.count() == 0
    assert r.svc.photos.info(1) is None
    got = r.phone.saved[1]
    assert hashlib.sha256(got).digest() == r.phone.offers[-1][3]
    assert r.phone.offers[-1][K] == kinds.PHOTO_OFFER
