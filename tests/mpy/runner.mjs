// Runs firmware test files under the official MicroPython WebAssembly build.
//
//   node tests/mpy/runner.mjs ROOT TESTFILE [TEST_NAME...]
//
// ROOT is the project folder: its firmware/ tree and tests/fw/*.py are copied into the
// MicroPython filesystem. Each test_* function of TESTFILE runs in definition order; a test
// written as a generator is driven one step per top-level call, so that the build's GC
// (which only collects when control is back in JavaScript) runs between steps.
//
// Heap: this build grows its heap on demand, so the budget is checked, not assumed. Before
// each step the GC has just run, so gc.mem_alloc() is the live heap; at the end of the step
// it is live + everything allocated during the step, an upper bound of the step's peak.
// A test's peak is the largest such reading minus the live heap before the test began
// (the previous test's generator, and all it held, let go and collected first).
// Budget: HEAP_BUDGET = {"test_name": bytes} in the test module, else 64 KB.
// The whole heap is counted too, from before the test file's imports (its code, what
// earlier tests left, the test's peak): `whole`, within FILE_HEAP_BUDGET (bytes) of the
// module, else 128 KB. tests/mpy/run.py runs the file again on the unix port at that
// fixed heap.
//
// Output: one JSON object per line: {"event": "start"|"result", ...}.
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import fs from "fs";
import path from "path";
import { copyTree } from "./mpfs.mjs";

const [root, testFile, ...only] = process.argv.slice(2);
const emit = (o) => process.stdout.write(JSON.stringify(o) + "\n");
let captured = "";
const mp = await loadMicroPython({
  heapsize: 64 * 1024,
  stdout: (s) => { captured += s + "\n"; },
  stderr: (s) => { captured += s + "\n"; },
});

const py_only = (name) => name.endsWith(".py");
copyTree(mp, path.join(root, "firmware"), "/work/firmware", py_only);
copyTree(mp, path.join(root, "tests", "fw"), "/work/tests", py_only); // fwtest.py, shared data
const modName = "t_" + path.basename(testFile, ".py");
mp.FS.writeFile("/work/tests/" + modName + ".py", fs.readFileSync(testFile));

const source = fs.readFileSync(testFile, "utf8");
let names = [...source.matchAll(/^def (test_\w+)\s*\(/gm)].map((m) => m[1]);
if (only.length) names = names.filter((n) => only.includes(n));

function guard(fn) {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    return { ok: false, error: e.type ? `${e.type}: ${e.message}` : String(e) };
  }
}
const py = (code) => guard(() => mp.runPython(code));
const get = (name) => mp.globals.get(name);

const boot = py(`
import sys, gc
sys.path.insert(0, "/work/tests")
sys.path.insert(0, "/work")
import fwtest
fwtest.IMPL = "micropython"
gc.collect()
`);
// The whole heap is counted from here: the test file's imports are in it.
py("__base0 = gc.mem_alloc()");
const imported = py(`
import ${modName} as __m
__budgets = getattr(__m, "HEAP_BUDGET", {})
__file_budget = getattr(__m, "FILE_HEAP_BUDGET", 131072)
gc.collect()
`);
for (const r of [boot, imported]) {
  if (!r.ok) {
    emit({ event: "result", test: "<import>", ok: false, error: r.error + "\n" + captured });
    process.exit(1);
  }
}

const STEP_LIMIT = 100000;
let failures = 0;
for (const name of names) {
  emit({ event: "start", test: name });
  captured = "";
  // The previous test's generator (and all it held: its rig) is let go first, then
  // collected (a collection runs when a call returns), and only then is the base read.
  py("__gen = None\n__err = None\ngc.collect()");
  const start = py(`
import gc
__base = gc.mem_alloc()
__peak = 0
__whole = gc.mem_alloc() - __base0
def __step(first):
    global __gen, __err, __peak, __whole
    gc.collect()  # runs once control is back in JavaScript
    try:
        if first:
            r = getattr(__m, "${name}")()
            if hasattr(r, "send"):
                __gen = r
            else:
                return 1
        try:
            next(__gen)
            return 0
        except StopIteration:
            return 1
    except BaseException as e:
        import io
        buf = io.StringIO()
        sys.print_exception(e, buf)
        __err = buf.getvalue()
        return 1
    finally:
        m = gc.mem_alloc()
        if m - __base > __peak:
            __peak = m - __base
        if m - __base0 > __whole:
            __whole = m - __base0
`);
  let result = { ok: start.ok, error: start.error };
  if (start.ok) {
    let step = 0;
    let first = true;
    for (;;) {
      const r = guard(() => get("__step")(first));
      first = false;
      if (!r.ok) { result = { ok: false, error: r.error }; break; }
      if (r.value === 1) break;
      if (++step > STEP_LIMIT) { result = { ok: false, error: "generator test did not finish" }; break; }
    }
    if (result.ok) {
      py(`__budget = __budgets.get("${name}", 65536)`);
      const err = get("__err");
      const peak = get("__peak");
      const budget = get("__budget");
      const whole = get("__whole");
      const fileBudget = get("__file_budget");
      result = { ok: !err, error: err || undefined, peak, budget, whole, file_budget: fileBudget };
      if (!err && peak > budget) {
        result.ok = false;
        result.error = `peak heap ${peak} bytes exceeds the budget of ${budget} bytes`;
      } else if (!err && whole > fileBudget) {
        result.ok = false;
        result.error = `the whole heap, the file's imports included, peaked at ${whole} ` +
          `bytes, over the file's budget of ${fileBudget} bytes (FILE_HEAP_BUDGET)`;
      }
    }
  }
  if (!result.ok) failures++;
  emit({ event: "result", test: name, ...result, output: captured || undefined });
}
process.exit(failures ? 1 : 0);
