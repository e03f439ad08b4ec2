"""Photos end to end (CPython; bench/run.py calls run()), in the rig (sim/linked.py: the
real firmware, the real BLE stack on both sides, the link model), worn, virtual time:

photo_to_phone_ms: the photo gesture (the back pad's long press starts) -> the photo
saved in the phone's gallery, for a 640x480 JPEG (photo_kb: its size); mean of N.
photo_sync_kBps: photos taken while the phone was away, synced after it is back: their
bytes over the time from the link's return to the last one saved.
photo_mAh: the glasses' charge per photo (the camera, the capture LED, and the board's
extra above its idle draw), from the power meter over the capture and the transfer.
The firmware's own run time is not in virtual time (docs/power.md), so the figures are
the sensor's settle and frame time, the flash steps' scheduling and the link.

"Read this" (the voice intent's action, {"type": "photo", "ask": "read this"}) at each
text scene (sign, page, label), READS times round:
read_this_ms: the photo saved in the gallery -> its text from the offline text reader
(host_tools/camera/ocr.py), in real milliseconds on this machine (the worker process's
round trip: JPEG decode, detection, recognition; virtual time stands still meanwhile),
p50 over the reads; read_this_cold_ms: the first one, which starts the worker (importing
OpenCV and onnxruntime, loading the models). read_this_at_glasses_ms: the intent's action
on the glasses -> the text back at the glasses (the PHOTO_DONE they say it from), in
virtual time, p50: the capture, the transfer and the answer's way back; the OCR's own
time is read_this_ms, not in this one (virtual time stands still while it runs).
ocr_word_accuracy_pct: the scenes' words found in what was said, in order, mean.
ocr_install_mb: what "read this" adds to the install: rapidocr-onnxruntime and the
distributions it requires (their closure, as installed here) that no other dependency of
the project needs, by their wheels' file lists.
"""
import asyncio
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

N = 3
AWAY = 3  # photos taken while the phone is away
READS = 2  # "read this" rounds over the text scenes


def _charge_mah(w):
    p = w.power
    p._advance()
    return (sum(p.state_charge.values()) + sum(p.adder_charge.values())) / 3.6e9


def run(seed=7):
    from host_tools.camera.host import attach
    from sim.linked import Linked
    rig = Linked(seed=seed)
    w = rig.world
    out = {}
    gallery = tempfile.mkdtemp(prefix="glasses-gallery-")
    cams_ref = []

    async def until(cond, timeout_s):
        t_end = w.now_s() + timeout_s
        while not cond():
            if w.now_s() >= t_end:
                raise TimeoutError("bench_camera: timed out")
            await asyncio.sleep(0.01)

    async def scenario():
        await rig.start()
        await rig.phone.wait_open(30)
        cams = attach(rig.phone, gallery_dir=gallery)
        cams_ref.append(cams)
        w.part("prox").put_on()
        await asyncio.sleep(5)
        app = rig.glasses.app
        pad = w.part("touch1")
        lat, sizes, mah, spans = [], [], [], []
        for i in range(N):
            base = _charge_mah(w)
            t0 = w.now_s()
            pad.touch(1.0)
            await until(lambda i=i: len(cams.saved) > i, 60)
            lat.append((w.now_s() - t0) * 1000)
            sizes.append(cams.saved[i].meta["bytes"])
            await until(lambda: app.camera.photos.count() == 0, 10)
            await asyncio.sleep(2)
            spans.append(w.now_s() - t0)
            mah.append(_charge_mah(w) - base)
        # the same stretch with no photo: the board's own draw, taken off
        base = _charge_mah(w)
        t0 = w.now_s()
        await asyncio.sleep(sum(spans) / len(spans))
        quiet = (_charge_mah(w) - base) / (w.now_s() - t0)  # mAh per second
        per = [m - quiet * spans[k] for k, m in enumerate(mah)]
        out["photo_to_phone_ms"] = round(sum(lat) / len(lat), 1)
        out["photo_kb"] = round(sum(sizes) / len(sizes) / 1024, 1)
        out["photo_mAh"] = round(sum(per) / len(per), 4)
        # away: photos wait, then sync when the phone is back
        w.radio.walk_away(30)
        await until(lambda: not app.link.up, 20)
        for k in range(AWAY):
            pad.touch(1.0)
            await until(lambda k=k: app.camera.counts["taken"] == N + k + 1, 10)
            await asyncio.sleep(1.5)
        have = len(cams.saved)
        await until(lambda: app.link.up, 60)
        t_back = w.now_s()
        await until(lambda: len(cams.saved) == have + AWAY, 120)
        nbytes = sum(p.meta["bytes"] for p in cams.saved[have:])
        out["photo_sync_kBps"] = round(nbytes / 1024 / (w.now_s() - t_back), 1)
        await until(lambda: app.camera.photos.count() == 0, 30)
        out.update(await _read_this(cams, app, w, until))

    try:
        rig.run(scenario())
    finally:
        rig.close()
        if cams_ref:
            cams_ref[0].close()
    return out


async def _read_this(cams, app, w, until):
    from host_tools.camera.ocr import READ_ASK
    from sim.scenes import TEXT, word_accuracy
    said_ms, accs = [], []
    for _ in range(READS):
        for scene in (s for s in TEXT if TEXT[s]):
            w.part("camera").set_scene(scene)
            n = len(cams.answers)
            t0 = w.now_s()
            app.emit("voice_action", {"type": "photo", "ask": READ_ASK})
            await until(lambda n=n: len(cams.answers) > n, 60)
            text = cams.answers[-1][2]
            # the glasses delete the photo as they take its PHOTO_DONE and say the text
            await until(lambda: app.camera.photos.count() == 0, 10)
            said_ms.append((w.now_s() - t0) * 1000)
            accs.append(word_accuracy(scene, text))
    reads = cams.read_ms
    return {"read_this_ms": round(_p50(reads), 1), "read_this_cold_ms": round(reads[0], 1),
            "read_this_at_glasses_ms": round(_p50(said_ms), 1),
            "ocr_word_accuracy_pct": round(100 * sum(accs) / len(accs), 1),
            "ocr_install_mb": round(ocr_install_mb(), 1)}


def ocr_install_mb():
    import importlib.metadata as md
    from packaging.requirements import Requirement

    from bench.installed import closure as _closure
    ours = ("rapidocr-onnxruntime", "opencv-python")
    others = [Requirement(r).name for r in md.distribution("glasses").requires or ()
              if "extra" not in r and Requirement(r).name.lower() not in ours]
    rest = _closure(others)
    return sum(b for n, b in _closure(ours).items() if n not in rest) / 1e6


def _p50(xs):
    xs = sorted(xs)
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


if __name__ == "__main__":
    print(run())
