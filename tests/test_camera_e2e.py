"""Photos end to end over the real BLE stack (bumble, sim/linked.py): the board's photo
gesture on the virtual touch pad, the virtual OV2640 through the camera module's mirror,
the capture LED, the photo on the glasses' flash, then over the FILE channel into the
phone's gallery; a link dropped while a photo travels resumes, and the gallery never
holds half a photo; while the phone is away photos wait and sync when it is back."""
import io
import json
import os

import pytest
from e2e_util import Rig, PinProbe
from PIL import Image

from host_tools.camera.host import attach


@pytest.fixture
def rig(tmp_path):
    r = Rig(seed=41)
    r.gallery = str(tmp_path / "gallery")
    yield r
    r.close()


async def _start(r):
    await r.start()
    r.cams = attach(r.phone, gallery_dir=r.gallery)
    r.part("prox").put_on()
    assert await r.until(lambda: r.app.senses.wear.worn(), 5)


def _jpegs(r):
    return sorted(n for n in os.listdir(r.gallery) if n.endswith(".jpg")) \
        if os.path.isdir(r.gallery) else []


def test_the_gesture_takes_a_photo_that_lands_in_the_gallery(rig):
    r = rig
    led = PinProbe(r.world, 44)

    async def scenario():
        await _start(r)
        r.part("camera").set_scene("sign")
        r.part("touch1").touch(1.0)  # the board's photo gesture: a long press, back pad
        saved = await r.cams.wait_photos(1, timeout_s=20)
        photo = saved[0]
        with open(photo.path, "rb") as f:
            data = f.read()
        img = Image.open(io.BytesIO(data))
        assert img.format == "JPEG" and img.size == (640, 480)
        with open(os.path.join(r.gallery, photo.name + ".json")) as f:
            meta = json.load(f)
        assert meta["by"] == "gesture" and meta["bytes"] == len(data)
        assert meta["board"] == "xiao_esp32s3_sense" and meta["w"] == 640
        assert abs(meta["taken"] - meta["received"]) < 30
        # deleted once the phone said it has it
        assert await r.until(lambda: r.app.camera.photos.count() == 0, 5)
        ons = [t for t, on in led.changes if on]
        assert len(ons) == 1  # the capture LED lit once, for the capture
        assert not os.listdir(os.path.join(r.gallery, ".partial"))

    r.run(scenario())


def test_a_dropped_link_resumes_and_photos_wait_for_the_phone(rig):
    r = rig

    async def scenario():
        await _start(r)
        cams = r.cams
        r.part("touch1").touch(1.0)
        assert await r.until(lambda: cams.counts["pieces"] >= 2, 20)
        assert r.world.radio.drop() == 1  # cut in the middle of the photo
        assert _jpegs(r) == []  # never half a photo in the gallery
        saved = await cams.wait_photos(1, timeout_s=30)
        assert len(saved) == 1
        assert await r.until(lambda: r.app.camera.photos.count() == 0, 5)
        # the phone goes away; two photos wait on the glasses, then sync
        r.world.radio.walk_away(20)
        await r.until(lambda: not r.app.link.up, 10)
        r.part("touch1").touch(1.0)
        await r.until(lambda: r.app.camera.counts["taken"] == 2, 10)
        r.part("touch1").touch(1.0)
        await r.until(lambda: r.app.camera.counts["taken"] == 3, 10)
        assert r.app.camera.photos.count() == 2 and len(_jpegs(r)) == 1
        saved = await cams.wait_photos(3, timeout_s=60)
        assert len(_jpegs(r)) == 3
        assert await r.until(lambda: r.app.camera.photos.count() == 0, 5)

    r.run(scenario())


class _VisionServer:
    """An OpenAI-compatible chat endpoint that takes an image: a test double of a
    third-party service. It answers what it was shown (the JPEG's size), garbage, or too
    late."""

    def __init__(self):
        import base64
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        self.mode = "ok"
        self.requests = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                content = body["messages"][-1]["content"]
                url = content[1]["image_url"]["url"]
                jpeg = base64.b64decode(url.split(",", 1)[1])
                outer.requests.append((content[0]["text"], jpeg))
                if outer.mode == "slow":
                    import time
                    time.sleep(2.5)  # past the backend's timeout
                data = (b"<html>garbage</html>" if outer.mode == "garbage" else json.dumps(
                    {"choices": [{"message": {"role": "assistant", "content":
                                  "A green sign that says EXIT (%d bytes)." % len(jpeg)}}]}
                ).encode())
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up
                    pass

            def log_message(self, *a):
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/v1" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def test_what_am_i_looking_at_goes_to_the_vision_backend_and_is_said(rig):
    from host_tools.camera.vision import VisionBackend
    r = rig
    srv = _VisionServer()

    async def scenario():
        await _start(r)
        r.cams.vision = VisionBackend(srv.url, "llava", timeout_s=5)
        r.part("camera").set_scene("sign")
        r.app.emit("voice_action", {"type": "photo", "ask": "what am I looking at"})
        assert await r.until(lambda: r.cams.answers, 20)
        name, ask, text = r.cams.answers[0]
        q, jpeg = srv.requests[0]
        assert ask == q == "what am I looking at" and jpeg[:2] == b"\xff\xd8"
        assert text == "A green sign that says EXIT (%d bytes)." % len(jpeg)
        assert await r.until(lambda: text in r.voice.said, 5)  # the glasses said it
        assert await r.until(lambda: r.app.camera.photos.count() == 0, 5)
        srv.mode = "garbage"  # a backend that answers garbage: said honestly, photo kept
        r.app.emit("voice_action", {"type": "photo", "ask": "what is this"})
        assert await r.until(lambda: len(r.cams.answers) == 2, 20)
        bad = r.cams.answers[1][2]
        assert "not a chat completion" in bad and "in your gallery" in bad
        assert len(_jpegs(r)) == 2
        srv.mode = "slow"  # a backend that times out: said honestly, photo kept
        r.cams.vision.timeout_s = 1.0
        r.app.emit("voice_action", {"type": "photo", "ask": "what is this"})
        assert await r.until(lambda: len(r.cams.answers) == 3, 20)
        late = r.cams.answers[2][2]
        assert "did not answer within 1 s" in late and "in your gallery" in late, late
        assert await r.until(lambda: late in r.voice.said, 5)
        assert len(_jpegs(r)) == 3

    try:
        r.run(scenario())
    finally:
        srv.close()


def test_a_shorted_capture_led_refuses_the_photo_out_loud_until_it_is_repaired(rig):
    from firmware.camera.service import SAY_NO_LED
    r = rig
    led = r.part("capture_led")

    async def scenario():
        await _start(r)
        led.short()
        r.app.emit("voice_action", {"type": "photo"})
        assert await r.until(lambda: SAY_NO_LED in r.spoken, 10)
        cam = r.app.camera
        assert cam.counts["refused"] == 1 and cam.counts["taken"] == 0
        assert cam.photos.count() == 0 and _jpegs(r) == []
        assert not led.is_on()
        assert "capture LED is missing or not lit" in r.glasses.log_text()
        led.short(False)  # repaired: photos again
        r.app.emit("voice_action", {"type": "photo"})
        saved = await r.cams.wait_photos(1, timeout_s=20)
        assert len(saved) == 1 and cam.counts["taken"] == 1

    r.run(scenario())


def test_a_full_phone_disk_keeps_the_photo_on_the_glasses_until_there_is_room(rig, monkeypatch):
    import errno
    from host_tools.camera import gallery as gallery_mod
    r = rig
    real_append = gallery_mod.Gallery.append
    full = [True]

    def append(self, board, pid, offset, data):
        if full[0]:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_append(self, board, pid, offset, data)

    async def scenario():
        await _start(r)
        monkeypatch.setattr(gallery_mod.Gallery, "append", append)
        cam = r.app.camera
        r.app.emit("voice_action", {"type": "photo"})
        assert await r.until(lambda: cam.sync.counts["refused"] >= 1, 20)
        assert cam.photos.count() == 1 and _jpegs(r) == []  # kept there, nothing half here
        assert r.cams.counts["refused"] >= 1
        assert "No space left on device" in cam.sync.last_error
        full[0] = False  # room again: the retry delivers it
        saved = await r.cams.wait_photos(1, timeout_s=60)
        assert len(saved) == 1 and len(_jpegs(r)) == 1
        assert await r.until(lambda: cam.photos.count() == 0, 10)

    r.run(scenario())
