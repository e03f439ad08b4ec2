"""Flashing figures, on the emulated micro:bit (qemu + Debian's MicroPython 1.9.2 hex).

- flash_noop_ratio_vs_ampy: `glasses flash` of a tree already on the board (nothing to
  write) / `ampy put` of the same files.
- flash_full_ratio_vs_ampy: `glasses flash` of the tree onto an empty board / `ampy put`
  of the same files onto an empty board.

Both sides run in this process, the way their command lines run them: ampy opens the port
and enters the raw REPL (with its soft reset) once per file, as `ampy put FILE` does; a
whole folder cannot be put on a micro:bit with ampy (it needs os.mkdir). `glasses flash`
includes its checks, its soft reset and the wait for the boot prompt. Each side starts
from a freshly booted board. The ratio is measured in one run, so the machine's speed
cancels out. The board fixture keeps the pty open for qemu, which would otherwise add up
to 1 s to every open of the port (it polls a closed pty once a second): an artefact of
the emulator that no USB serial port has, and that would penalise ampy's one open per
file.
"""
import os
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from flash_boards import Microbit  # noqa: E402

from host_tools.flash import deploy  # noqa: E402


def tree():
    files = {"main.py": b"import app\napp.run()\n",
             "app.py": b"import config, util\n\ndef run():\n"
                       b"    print('app', config.NAME, util.double(21))\n"}
    files["config.py"] = b"NAME = 'bench'\n" + b"# setting\n" * 30
    files["util.py"] = b"def double(x):\n    return 2 * x\n" + b"# helper notes\n" * 40
    for i in range(2):
        body = "".join("VALUE_%d_%d = %d\n" % (i, k, k * k) for k in range(45))
        files["table%d.py" % i] = body.encode()
    return sorted(files.items())


def ampy_put_each(port, files):
    from ampy.files import Files
    from ampy.pyboard import Pyboard
    t0 = time.monotonic()
    for name, data in files:
        pb = Pyboard(port)
        try:
            Files(pb).put(name, data)
        finally:
            pb.close()
    return time.monotonic() - t0


def run():
    files = tree()
    a = Microbit().start()
    try:
        t_ampy = ampy_put_each(a.port, files)
    finally:
        a.stop()
    b = Microbit().start()
    # A cold compile cache for the first flash (what a first flash after edits pays), kept
    # for the second (what a re-flash finds).
    cache = tempfile.mkdtemp(prefix="flash-bench-cache-")
    old = os.environ.get("GLASSES_CACHE_DIR")
    os.environ["GLASSES_CACHE_DIR"] = cache
    try:
        full = deploy.flash(b.port, files)
        noop = deploy.flash(b.port, files)
    finally:
        b.stop()
        shutil.rmtree(cache, ignore_errors=True)
        if old is None:
            del os.environ["GLASSES_CACHE_DIR"]
        else:
            os.environ["GLASSES_CACHE_DIR"] = old
    assert len(full.written) == len(files) and noop.written == []
    return {
        "flash_noop_ratio_vs_ampy": round(noop.seconds / t_ampy, 3),
        "flash_full_ratio_vs_ampy": round(full.seconds / t_ampy, 3),
        "flash_bench_files": len(files),
        "flash_bench_bytes": sum(len(d) for _, d in files),
    }


if __name__ == "__main__":
    print(run())
