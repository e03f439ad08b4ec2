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

    try:
        rig.run(scenario())
    finally:
        rig.close()
    return out


if __name__ == "__main__":
    print(run())
