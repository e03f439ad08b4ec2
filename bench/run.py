"""Print the project's figures: `name: value` lines, also written to bench/results.json.

    python bench/run.py [NAME_FILTER]

Benchmarks are files: bench/mpy/bench_*.py run under the official MicroPython WebAssembly
build (bench/mpy_run.mjs); bench/bench_*.py run under CPython (each has run() -> dict).
Ratios are measured side by side in one run, so the machine's speed cancels out.
A figure with a target is followed by the target and whether it is met; nothing here
fails a build (timings do not belong in pass/fail tests).
"""
import importlib.util
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

# name: (comparison, target). Figures without a target are reported only.
TARGETS = {
    "sched_resume_ratio_vs_bare": ("<=", 3.0),
    "sched_resume_ratio_vs_asyncio": ("<=", 0.25),
    "sched_wake_latency_ticks": ("<=", 0),
    "sim_virtual_speedup": (">=", 200),
    "sim_virtual_speedup_connected": (">=", 200),
    "sim_audio_clock_error_ppm": ("<=", 0),
    "link_goodput_ratio": (">=", 0.9),
    "link_resume_ms": ("<=", 30),
    "link_overhead_pct": ("<=", 3.0),
    "link_resume_intervals": ("<=", 2),
    "voice_latency_ms_p50": ("<=", 900),
    # the phone's speech stack (issue 12): per voice family of the spoken corpus
    "intent_accuracy_pct_piper": (">=", 95),
    "intent_accuracy_pct_espeak": (">=", 85),
    "wrong_intent_count_piper": ("<=", 0),
    "wrong_intent_count_espeak": ("<=", 0),
    "wake_detect_pct": (">=", 95),
    "wake_false_per_hour": ("<=", 0.5),
    "adpcm_snr_db": (">=", 20),
    "audio_link_kBps": ("<=", 9),
    "notify_to_haptic_ms": ("<=", 100),
    "idle_sleep_fraction": (">=", 0.95),
    "battery_life_h_connected_idle": (">=", 24),
    "battery_life_h_mixed": (">=", 8),
    "flash_noop_ratio_vs_ampy": ("<=", 0.2),
    "flash_full_ratio_vs_ampy": ("<=", 1.0),
    "ota_goodput_ratio": (">=", 0.8),
    "owner_connect_ms_with_squatter_max": ("<=", 10000),
    "stranger_bonds": ("<=", 0),
    "cross_phone_leaks": ("<=", 0),
    # the default board (issue 17): data after start, and the peak with code in flash
    "fw_heap_data_kb_xiao_esp32s3_sense": ("<=", 64),
    "fw_heap_peak_flash_kb_xiao_esp32s3_sense": ("<=", 160),
}


def run_mpy(path):
    out = subprocess.run(["node", os.path.join(ROOT, "bench", "mpy_run.mjs"), ROOT, path],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (os.path.basename(path), out.stderr[-2000:]))
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_py(path):
    spec = importlib.util.spec_from_file_location("bench_" + os.path.basename(path)[:-3], path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.run()


def benches():
    d = os.path.join(ROOT, "bench")
    for sub, runner in (("mpy", run_mpy), ("", run_py)):
        folder = os.path.join(d, sub)
        for f in sorted(os.listdir(folder)):
            if f.startswith("bench_") and f.endswith(".py"):
                yield os.path.join(folder, f), runner


def verdict(name, value):
    if name not in TARGETS or not isinstance(value, (int, float)):
        return ""
    op, target = TARGETS[name]
    ok = value <= target if op == "<=" else value >= target
    return "   (target %s %s: %s)" % (op, target, "met" if ok else "NOT met")


def main(argv):
    only = argv[0] if argv else ""
    results = {}
    errors = []
    for path, runner in benches():
        if only and only not in os.path.basename(path):
            continue
        t0 = time.time()
        try:
            figs = runner(path)
        except Exception as e:  # report and go on with the other benches
            errors.append("%s: %s" % (os.path.relpath(path, ROOT), e))
            continue
        for name, value in figs.items():
            results[name] = value
            print("%s: %s%s" % (name, value, verdict(name, value)), flush=True)
        print("  [%s: %.1f s]" % (os.path.relpath(path, ROOT), time.time() - t0), file=sys.stderr)
    out = os.path.join(ROOT, "bench", "results.json")
    with open(out, "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
    for e in errors:
        print("ERROR " + e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
