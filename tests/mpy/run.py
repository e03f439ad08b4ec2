"""Run the firmware tests under the official MicroPython WebAssembly build, then on the
MicroPython unix port at a fixed heap.

    python tests/mpy/run.py [FILE...]

Without FILEs it runs tests/fw/test_*.py (the files pytest also runs under CPython) and
tests/mpy/test_*.py (MicroPython-only tests, e.g. under micropython.heap_lock()). Each file
runs in its own MicroPython instance with a wall-clock limit, so a test that hangs the
interpreter is reported by name. WebAssembly (runner.mjs): each test's peak within its
HEAP_BUDGET, and the whole heap, the file's imports included, within the file's
FILE_HEAP_BUDGET. Unix port (unix_runner.py): the same file at `-X heapsize=<FILE_HEAP_
BUDGET>w` (a fixed heap of that many 32-bit words' worth: a test that does not fit, its
imports included, fails with MemoryError). Exits 1 if any test fails or exceeds a budget.
"""
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNNER = os.path.join(ROOT, "tests", "mpy", "runner.mjs")
UNIX_RUNNER = os.path.join(ROOT, "tests", "mpy", "unix_runner.py")
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
DEFAULT_FILE_BUDGET = 131072
FILE_TIMEOUT_S = 120


def default_files():
    out = []
    for d in ("tests/fw", "tests/mpy"):
        full = os.path.join(ROOT, d)
        out += sorted(os.path.join(full, f) for f in os.listdir(full)
                      if f.startswith("test_") and f.endswith(".py"))
    return out


def run_file(path, unix_heap=None):
    """Yield result dicts for one test file (unix_heap: on the unix port, at that heap)."""
    argv = (["node", RUNNER, ROOT, path] if unix_heap is None else
            [MICROPYTHON, "-X", "heapsize=%dw" % unix_heap, UNIX_RUNNER, ROOT, path])
    proc = subprocess.Popen(argv, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    current = None
    deadline = time.monotonic() + FILE_TIMEOUT_S
    try:
        out, err = proc.communicate(timeout=max(1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        err = ("MicroPython did not finish within %d s (a hang, e.g. an allocation "
               "under heap_lock)\n%s" % (FILE_TIMEOUT_S, err))
    seen = set()
    for line in out.splitlines():
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if ev["event"] == "start":
            current = ev["test"]
        else:
            seen.add(ev["test"])
            current = None
            yield ev
    if current is not None and current not in seen:
        yield {"test": current, "ok": False, "error": "interpreter died or hung here\n" + err}
    elif proc.returncode not in (0, 1) or (not seen and proc.returncode):
        yield {"test": "<runner>", "ok": False,
               "error": err or "runner exited %s" % proc.returncode}


def _both(path, budget):
    """The file under WebAssembly, then on the unix port at its FILE_HEAP_BUDGET."""
    for r in run_file(path):
        if r.get("file_budget"):
            budget[0] = r["file_budget"]
        yield r
    for r in run_file(path, budget[0]):
        r["unix"] = budget[0]
        yield r


def main(argv):
    files = argv or default_files()
    failed = 0
    total = 0
    for path in files:
        rel = os.path.relpath(path, ROOT)
        budget = [DEFAULT_FILE_BUDGET]
        for r in _both(path, budget):
            total += 1
            peak = r.get("peak")
            if r.get("unix"):
                mem = "" if peak is None else "  unix at %dw, peak %6d B (64-bit)" % (
                    r["unix"], peak)
            else:
                mem = "" if peak is None else "  heap %6d / %6d B" % (peak, r.get("budget", 0))
                if r.get("whole") is not None:
                    mem += "  whole %6d / %6d B" % (r["whole"], r.get("file_budget", 0))
            name = r["test"] + (" [unix]" if r.get("unix") else "")
            if r["ok"]:
                print("PASS  %s::%s%s" % (rel, name, mem))
            else:
                failed += 1
                print("FAIL  %s::%s%s" % (rel, name, mem))
                for line in (r.get("error") or "").rstrip().splitlines():
                    print("      " + line)
                if r.get("output"):
                    for line in r["output"].rstrip().splitlines()[-20:]:
                        print("      | " + line)
    print("%d MicroPython tests, %d failed" % (total, failed))
    if total == 0:
        print("no tests ran")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
