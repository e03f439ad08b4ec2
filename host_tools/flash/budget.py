"""Does the board's heap hold the firmware it will run? Checked by `glasses flash --board`
before the device is touched, so a board too small for its services fails here, naming
what to shrink, and not with a MemoryError at boot.

The estimate (32-bit heap bytes) is the code the board loads plus the data its features
take at start and while running, from the board's DATA (heap_bytes, parts, caps) and its
app config (DATA["config"] over firmware/voice/settings.py and firmware/app.py's
DEFAULTS). The constants are measured on MicroPython's 32-bit WebAssembly build by the
whole-firmware minute (tests/fwboot.py; `make bench` prints the figures behind them), and
tests/test_flash_budget.py checks the estimate against a fresh measurement of each board.
"""
import ast
import os

from host_tools.flash import errors as E

CODE_PER_MPY_BYTE = 1.26  # heap per byte of .mpy imported from a filesystem
CODE_KEPT_IN_ROM = 0.57  # the share of that still in the heap with the code in ROMFS
HEADROOM = 0.9  # the estimate must fit this share of heap_bytes (fragmentation)
RUNNING_BYTES = 7000  # what the data grows by while connected (sessions, a query)
# data at start per feature, without the buffers the config sizes (below)
FIXED = {"board": 3500, "core": 5200, "link": 7100, "voice": 5600, "senses": 2700,
         "notify": 1600, "ota": 2000, "rest": 600,
         # the camera's start (2 KB) and a photo in flight: the FILE channel's window of
         # pieces sent but not yet acknowledged (the frame buffer is outside the GC heap)
         "camera": 2000 + 8192}
# config keys whose buffers a feature allocates at start: bytes per unit
VOICE_BUFFERS = (("voice_offline_bytes", 1), ("voice_ring_frames", 640))
JITTER = ("voice_jitter_slots", "voice_jitter_packet_bytes")
PLAYBACK_BYTES = 1280  # two 20 ms frames of PCM


def board_data(tree, board):
    """The DATA of the tree's board.py (run here as MicroPython would: const from the
    host's micropython stand-in)."""
    import host_tools  # noqa: F401  (installs the micropython stand-in)
    ns = {}
    exec(compile(dict(tree)["board.py"], "boards/%s/board.py" % board, "exec"), ns)
    return ns.get("DATA") or {}


def code_bytes(tree):
    """The .mpy bytes of the tree's modules (the newest mpy-cross, bytecode; native code
    for x64), or half the source bytes without a compiler."""
    from host_tools.flash import build
    cs = build.compilers()
    n = 0
    for path, data in tree:
        if path.endswith(".py") and path not in build.KEEP_PY:
            if not cs:
                n += len(data) // 2
                continue
            n += len(build.compile_one(cs[0], path, data,
                                       "x64" if build.needs_native(data) else None))
    return n


def _settings(root):
    """firmware/voice/settings.py's CONFIG and firmware/app.py's DEFAULTS, read as data."""
    out = {}
    for rel, name in (("firmware/voice/settings.py", "CONFIG"), ("firmware/app.py", "DEFAULTS")):
        with open(os.path.join(root, rel)) as f:
            tree = ast.parse(f.read())
        for node in tree.body:
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == name:
                out.update(ast.literal_eval(node.value))
    return out


def features(data):
    """The features firmware/app.py starts for this board (FEATURES: by its parts)."""
    parts = data.get("parts", {})
    caps = data.get("caps", ())
    on = ["board", "core", "senses", "notify", "ota", "rest"]
    if "ble" in caps:
        on.append("link")
    if "mic" in parts and "speaker" in parts:
        on.append("voice")
    if "camera" in caps:
        on.append("camera")
    return on


def estimate(data, root, code_mpy_bytes, code="mpy"):
    """(total, code, {feature: data bytes}, config) for a board; code: "mpy" (imported from
    the filesystem), "romfs" or "frozen" (kept in flash; frozen keeps at most what ROMFS
    keeps in the heap)."""
    cfg = _settings(root)
    cfg.update(data.get("config") or {})
    code_bytes = int(code_mpy_bytes * CODE_PER_MPY_BYTE)
    if code != "mpy":
        code_bytes = int(code_bytes * CODE_KEPT_IN_ROM)
    per = {}
    for f in features(data):
        n = FIXED[f]
        if f == "voice":
            n += sum(int(cfg[k]) * unit for k, unit in VOICE_BUFFERS)
            n += int(cfg[JITTER[0]]) * int(cfg[JITTER[1]]) + PLAYBACK_BYTES
        per[f] = n
    per["running"] = RUNNING_BYTES
    return code_bytes + sum(per.values()), code_bytes, per, cfg


def check(board, data, root, code_mpy_bytes, code="mpy"):
    """Raise HeapTooSmall when the estimate does not fit; else a line for the output."""
    heap = data.get("heap_bytes")
    if not heap:
        return "heap: the board's DATA has no heap_bytes: not checked"
    total, code_bytes, per, cfg = estimate(data, root, code_mpy_bytes, code)
    line = "heap: about %d KB of %d KB (code %d KB %s, data %d KB)" % (
        total // 1024, heap // 1024, code_bytes // 1024,
        "from .mpy files" if code == "mpy" else "left in the heap by " + code,
        (total - code_bytes) // 1024)
    if total <= heap * HEADROOM:
        return line
    raise E.HeapTooSmall(board, heap, total, code_bytes, per, cfg, code)
