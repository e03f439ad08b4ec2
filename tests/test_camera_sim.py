"""The simulated camera: the scenario event `photo`, the virtual OV2640's currents and
faults through the camera module's mirror, a firmware without the camera module, and
`glasses photos` on a gallery."""
import sys

from sim import scenario as S
from sim.runner import SimGlasses

from host_tools.camera.gallery import Gallery
from host_tools.cli import main as glasses


def _glasses(seed=5):
    return SimGlasses("xiao_esp32s3_sense", seed=seed, config={"voice_vad": False})


def test_the_photo_event_takes_one_with_the_led_and_the_cameras_current():
    g = _glasses()
    try:
        sc = S.parse_text("1 put_on\n4 photo page\n")
        g.run_for(8, scenario=sc)
        cam = g.app.camera
        assert cam.counts["taken"] == 1 and cam.photos.count() == 1  # no phone: it waits
        assert g.world.part("camera").scene == "page"
        rep = g.world.power.report()["adder_mah"]
        assert rep["camera"] > 0 and rep["capture_led"] > 0
        assert not g.world.part("capture_led").is_on()
        assert "camera: photo 1" in g.log_text()
    finally:
        g.close()


def test_the_scene_event_points_the_camera_and_takes_nothing():
    g = _glasses()
    try:
        sc = S.parse_text("1 put_on\n2 scene label\n")
        g.run_for(4, scenario=sc)
        assert g.world.part("camera").scene == "label"
        assert g.app.camera.counts["taken"] == 0 and g.app.camera.photos.count() == 0
        for bad in ("1 scene\n", "1 scene nowhere.jpg\n"):
            try:
                S.parse_text(bad)
            except ValueError as e:
                assert "scene" in str(e)
            else:
                raise AssertionError("%r was accepted" % bad)
    finally:
        g.close()


def test_a_stalled_or_cutting_camera_is_retried_then_reported():
    g = _glasses(6)
    try:
        g.world.part("prox").put_on()
        g.run_for(3)
        part = g.world.part("camera")
        part.stall(1)
        g.app.camera.take()
        g.run_for(4)
        c = g.app.camera.counts
        assert c["taken"] == 1 and c["no_frame"] == 1 and c["retries"] == 1, c
        part.truncate(2)
        g.app.camera.take()
        g.run_for(4)
        assert c["failed"] == 1 and c["bad_jpeg"] == 2, c
        part.disconnect()
        g.app.camera.take()
        g.run_for(5)
        assert c["failed"] == 2 and c["no_frame"] >= 3, c
    finally:
        g.close()


def test_a_firmware_without_the_camera_module_reports_it_and_runs(monkeypatch):
    monkeypatch.setitem(sys.modules, "camera", None)  # `import camera` fails
    g = _glasses(7)
    try:
        g.run_for(3)
        assert "micropython-camera-API" in g.board.missing["camera"]
        assert g.board.camera is None and g.app.camera is None
        assert "camera missing" in g.log_text() and g.app.voice is not None
    finally:
        g.close()


def test_glasses_photos_lists_pulls_and_deletes(tmp_path, capsys):
    gal = Gallery(str(tmp_path / "g"))
    import hashlib
    data = b"\xff\xd8" + b"x" * 100 + b"\xff\xd9"
    gal.append("b", 3, 0, data)
    p = gal.finish("b", 3, hashlib.sha256(data).digest(), {"by": "voice", "w": 640, "h": 480})
    assert glasses(["photos", "--gallery", gal.root]) == 0
    out = capsys.readouterr().out
    assert p.name in out and "1 photo in" in out and "voice" in out
    assert glasses(["photos", "pull", p.name, "--gallery", gal.root,
                    "--to", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / (p.name + ".jpg")).read_bytes() == data
    assert glasses(["photos", "delete", "nope", "--gallery", gal.root]) == 1
    assert glasses(["photos", "delete", "--all", "--gallery", gal.root]) == 0
    assert gal.photos() == []


def test_take_a_photo_and_what_am_i_looking_at_are_intents():
    from host_tools.voice import parse
    from host_tools.voice.assist import default_registry
    reg = default_registry()

    def intent(text):
        n = parse.normalise(text)
        hits = [i for i in reg.intents if i.match(n) is not None]
        return hits[0].name if hits else None
    assert intent("Take a photo.") == "photo" and intent("snap a picture") == "photo"
    assert intent("What am I looking at?") == "look" and intent("what is this") == "look"
    assert intent("what time is it") == "time" and intent("photosynthesis") is None
    look = [i for i in reg.intents if i.name == "look"][0].handler(None, {})
    assert look["actions"] == [{"type": "photo", "ask": "what am I looking at"}]
    assert "no vision service" in look["answer"]  # honest, and the photo is kept
