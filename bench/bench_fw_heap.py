"""Where the heap goes: each board's whole firmware for a minute on real MicroPython
(tests/fwboot.py; the tree `glasses flash` builds, on the stand-ins, with the phone).

- fw_heap_peak_kb_<board>: the whole peak under the 32-bit WebAssembly build, imports
  included (the code loaded from .mpy files, as a stock build holds it).
- fw_heap_code_kb_<board> / fw_heap_data_kb_<board>: the code of every module the minute
  imports, and the data after start (32-bit); fw_heap_data_peak_kb_<board>: the peak's
  data (peak - code); fw_data_<feature>_kb_<board>: the data each part of the start takes.
- fw_romfs_code_kept_pct: the share of the code's heap that stays with the code in a
  ROMFS image (unix port: code phase from ROMFS / from .mpy), and
  fw_heap_peak_flash_kb_<board>: the 32-bit peak with that applied (code in flash).
- fw_min_heap_kb_unix_<board>_mpy / _romfs: the smallest -X heapsize (KiB, this 64-bit
  build; 8 KiB steps) at which the whole minute runs, from .mpy files and from ROMFS
  (the image's own bytes, in the unix heap here, not counted: on a board it is flash).
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

import fwboot  # noqa: E402
from host_tools.flash import build  # noqa: E402

STEP = 8 * 1024
PHASES = ("board", "core", "link", "voice", "senses", "notify", "ota", "camera", "rest")


def _kb(n):
    return round(n / 1024, 1)


def _min_heap(board, romfs, lo=64 * 1024, hi=2048 * 1024):
    """Smallest heap (bytes, a multiple of STEP) at which the minute runs."""
    def ok(n):
        rep = fwboot.run_unix(board, n, romfs=romfs, words=False)
        return rep.get("ok") and not fwboot.check(rep)
    if not ok(hi):
        return None
    lo //= STEP
    hi //= STEP
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid * STEP):
            hi = mid
        else:
            lo = mid + 1
    return hi * STEP


def run():
    out = {}
    kept = None
    for board in build.boards():
        rep = fwboot.run_wasm(board)
        if not rep.get("ok"):
            raise RuntimeError("%s: %s" % (board, fwboot.explain(board, rep, 0)))
        prof = fwboot.profile(board, rep["modules"])
        code = prof["code"]
        out["fw_heap_peak_kb_" + board] = _kb(rep["peak"])
        out["fw_heap_code_kb_" + board] = _kb(code)
        out["fw_heap_data_kb_" + board] = _kb(prof["rest"] - code)
        out["fw_heap_data_peak_kb_" + board] = _kb(rep["peak"] - code)
        prev = code
        for p in PHASES:
            out["fw_data_%s_kb_%s" % (p, board)] = _kb(prof[p] - prev)
            prev = prof[p]
        if kept is None:
            mpy = fwboot.profile(board, rep["modules"], wasm=False)
            rom = fwboot.profile(board, rep["modules"], wasm=False, romfs=True)
            kept = rom["code"] / mpy["code"]
            out["fw_romfs_code_kept_pct"] = round(100 * kept, 1)
        out["fw_heap_peak_flash_kb_" + board] = _kb(rep["peak"] - code * (1 - kept))
        out["fw_min_heap_kb_unix_%s_mpy" % board] = _kb(_min_heap(board, False) or 0)
        out["fw_min_heap_kb_unix_%s_romfs" % board] = _kb(_min_heap(board, True) or 0)
    return out


if __name__ == "__main__":
    for k, v in run().items():
        print("%s: %s" % (k, v))
