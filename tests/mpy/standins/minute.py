# One minute of the whole firmware, as `glasses flash` deployed it, on the stand-ins of
# this folder (MicroPython's machine, time and bluetooth over world.py) with the phone
# (phone.py) on the radio. The host side is tests/fwboot.py; this file runs on the unix
# port (main(): its own loop at a fixed -X heapsize) and under the WebAssembly build
# (tests/mpy/boot.mjs calls begin(), step() until it returns 1, then report()).
#
# The minute: boot through main.py's own path (firmware/bootmain.py), the phone connects
# at 2 s and pairs, a notification at 8 s, the wearer asks a question at 15 s (1.2 s of
# speech into the microphone: VAD, the audio to the phone, its answer played), a status
# request (it carries the OTA state) at 40 s, then on to 60 s. On a board with a camera
# (stand-in camera.py) the wearer asks for a photo at 25 s (the voice action): taken,
# kept on flash and sent to the phone over FILE, which confirms it (PHOTO_DONE).
# Every error the firmware logs (a task that failed, a MemoryError) and every step the
# phone did not see is in the report, which the host turns into a failure naming the heap
# and what ran out.
import gc
import sys

from world import W, Script

MINUTE_MS = 60000
STEP_MS = 250  # virtual ms per step: the GC runs between steps
SEC = 1000000
_R = {"ok": False, "phase": "setup", "errors": [], "peak": 0, "live_boot": 0, "base": 0,
      "phone_bytes": 0, "trace": []}
_app = [None]


def _mem():
    return gc.mem_alloc()


def _fail(phase, e):
    import io
    buf = io.StringIO()
    sys.print_exception(e, buf)
    _R["errors"].append("%s: %s: %s" % (phase, type(e).__name__, e))
    _R["traceback"] = buf.getvalue()
    _R["phase"] = phase


def _parts(d):
    from machine import Part
    bus = d["i2c"]["id"]
    p = d["parts"]
    imu = Part({0x0F: 0x6C, 0x2D: 0x40})  # WHO_AM_I; +1 g on Z
    gauge = Part({0x02: 0xC3, 0x04: 80, 0x08: 0x00, 0x09: 0x12, 0x0C: 0x97, 0x0D: 0x1C})
    W.parts[(bus, p["imu"]["addr"])] = imu
    W.parts[(bus, p["prox"]["addr"])] = Part({0x0C: 0x0186, 0x08: 2500}, words=True)
    W.parts[(bus, p["gauge"]["addr"])] = gauge
    if "camera" in p and "camera" in d["caps"]:  # the OV2640 on SCCB and its frame buffer
        import camera
        c = p["camera"]
        camera.power_on(bus, c.get("frame", "VGA"), c.get("quality", 80))
    return p["imu"]["int1"]


def _speech():
    from audio_signals import Speech
    sp = Speech(seed=3, level=9000)
    W.mic_source = sp.fill
    return False


def _quiet():
    W.mic_source = None
    return False


def _photo():
    """The wearer's "take a photo": the voice action, as firmware/voice/actions.py emits it
    (nothing listens on a board without the camera feature)."""
    _app[0].emit("voice_action", {"type": "photo"})
    return False


def _keep(app_module, board_module):
    _app[0] = app_module.boot(board_module)


def _log_sink(tick, level, msg, a, b):
    if level >= 40 and len(_R["errors"]) < 16:  # ERROR
        _R["errors"].append("log: %s %s %s" % (msg, a, b if b is None else str(b)[:300]))


def setup():
    """Power on: the stand-ins and the parts on the board's bus; False if it failed."""
    import audio_signals  # noqa: F401  (the stand-ins' own code is not the firmware's)
    import fakebus  # noqa: F401
    import bluetooth
    import machine  # noqa: F401
    import time  # noqa: F401
    bluetooth.BLE()
    try:
        import board
        d = board.DATA
        _R["board"] = d["name"]
        _R["camera_cap"] = "camera" in d["caps"]
        _parts(d)
        del sys.modules["board"]
    except Exception as e:
        _fail("setup", e)
        return False
    return True


def boot():
    """main.py's boot (firmware/bootmain.py), counted from the heap before it (the GC has
    just run); False if it failed."""
    _R["base"] = _mem()
    try:
        _R["phase"] = "boot"
        from firmware import bootmain
        bootmain.main(run=_keep, log=lambda s: None)
    except Exception as e:
        _fail(_R["phase"], e)
        return False
    app = _app[0]
    app.log.sink = _log_sink
    for _seq, tick, level, msg, a, b in app.log.records():
        _log_sink(tick, level, msg, a, b)
    return True


def add_phone():
    """The phone and the scenario (after measure(): what the phone takes is counted
    apart); False if it failed."""
    _R["live_boot"] = _mem() - _R["base"]
    try:
        _R["phase"] = "the phone"
        import bluetooth
        import phone as _phone
        ph = W.phone = _phone.Phone()
        radio = bluetooth.BLE()
        W.add(Script((
            (2 * SEC, lambda: radio.connect(ph) and False),
            (8 * SEC, lambda: ph.notify("n1", "Lunch at noon?") and False),
            (15 * SEC, _speech),
            (16 * SEC + 200000, _quiet),
            (25 * SEC, _photo),
            (40 * SEC, lambda: ph.ask_status() and False),
        )))
    except Exception as e:
        _fail(_R["phase"], e)
        return False
    _R["phase"] = "running"
    return True


def phone_done():
    """Called with the GC just run after add_phone(): what the phone took."""
    _R["phone_bytes"] = _mem() - _R["base"] - _R["live_boot"]


def step():
    """Run STEP_MS of virtual time; 1 when the minute is over (or the run failed)."""
    app = _app[0]
    if app is None:
        return 1
    try:
        app.sched.run(until_ms=STEP_MS)
    except Exception as e:
        _fail("running at %d ms" % (W.us // 1000), e)
        _app[0] = None
        return 1
    return 1 if W.us >= MINUTE_MS * 1000 else 0


def measure():
    """After a step, with the GC just run: the live heap; keeps the largest."""
    live = _mem() - _R["base"] - _R["phone_bytes"]
    if live > _R["peak"]:
        _R["peak"] = live
        _R["peak_ms"] = W.us // 1000
    t = W.us // 5000000
    tr = _R["trace"]
    if len(tr) <= t and len(tr) < 16:
        tr.append(live)
    return live


def report():
    """The run as a dict: what the firmware and the phone did, the heap it took."""
    app = _app[0]
    ph = W.phone
    r = _R
    r["t_ms"] = W.us // 1000
    if ph is not None:
        r["phone"] = {"opened": ph.opened, "calls": ph.calls, "answered": ph.answered,
                      "audio_in": ph.audio_in, "replies": ph.replies,
                      "status": sorted(ph.status) if ph.status else None,
                      "ota_reports": ph.ota_reports,
                      "photos": [[i, n] for i, n, _m in ph.photos],
                      "photo_pieces": ph.photo_pieces, "photo_bad": ph.photo_bad}
    r["speaker_frames"] = W.speaker_frames
    r["speaker_loud"] = W.speaker_loud
    if app is not None or not r.get("modules"):
        r["modules"] = sorted(k for k in sys.modules if k.startswith("firmware"))
    if app is not None:
        r["services"] = sorted(app.services)
        v = app.voice
        if v is not None:
            r["voice"] = {"asks": v.asks, "answers": v.answers, "errors": v.errors,
                          "last_error": v.last_error}
        c = app.camera
        if c is not None:
            r["camera"] = {"counts": c.counts, "waiting": c.photos.count(), "last": c.last,
                           "sync": c.sync.counts if c.sync is not None else None}
        r["failed_tasks"] = [t[0] for t in app.sched.stats() if t[1] == "failed"]
        r["ok"] = not r["errors"] and r["t_ms"] >= MINUTE_MS and not r["failed_tasks"]
    return r


def main():
    """The unix port's loop: the whole minute, then the report as one JSON line."""
    import json
    ok = setup()
    gc.collect()
    ok = ok and boot()
    gc.collect()
    ok = ok and add_phone()
    gc.collect()
    if ok:
        phone_done()
        while not step():
            gc.collect()
            measure()
    else:  # the heap was too small: the firmware goes, so that the report fits
        _R["modules"] = sorted(k for k in sys.modules if k.startswith("firmware"))
        for k in _R["modules"]:
            del sys.modules[k]
        _app[0] = None
        W.phone = None
        W.devices = []
        gc.collect()
    out = json.dumps(report())
    print("MINUTE", out)



# ---- where the heap goes: code, then each part of the start, one phase per call ----------
_P = {}


def profile_phases():
    """The phases of profile_step(): the code of every module the minute imports, then
    the start as firmware/app.py does it, part by part (the features in FEATURES order;
    nothing of the firmware is imported before "code")."""
    return ["code", "board", "core", "link", "voice", "senses", "notify", "ota", "camera",
            "rest"]


def profile_step(name, modules=()):
    """Run one phase; the caller runs the GC and reads the heap after it."""
    if name == "code":  # nothing of the firmware is imported before this
        _R["base"] = _mem()
        for m in modules:
            __import__(m)
        import board  # noqa: F401
        return
    from firmware import app as A
    if name == "board":
        import board
        from firmware.runtime.log import Log
        _P["log"] = Log(A.DEFAULTS["log_records"])
        _P["board"] = board.build(log=_P["log"])
    elif name == "core":
        from firmware.runtime import sched as S
        b = _P["board"]
        s = S.Scheduler(log=_P["log"], idle=b.idle)
        cfg = dict(sys.modules["board"].DATA.get("config") or {})
        app = _P["app"] = A.App(s, b, _P["log"], cfg)
        A.start_watchdog(app)
        A.start_sensors(app)
        A.start_outputs(app)
    elif name == "rest":
        A.start_heartbeat(_P["app"])
        A.start_feedback(_P["app"])
    else:
        app = _P["app"]
        for slot, module, parts, _why_not in A.FEATURES:
            if slot == name and A._has(app.board, parts):
                setattr(app, slot, sys.modules[module].start(app))


def profile_live():
    return _mem() - _R["base"]


def profile_main(modules):
    """The unix port's profile: one JSON line, the heap after each phase."""
    import json
    setup()
    out = {}
    for name in profile_phases():
        gc.collect()
        profile_step(name, modules)
        gc.collect()
        out[name] = profile_live()
    print("PROFILE " + json.dumps(out))
