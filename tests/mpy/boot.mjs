// One minute of the whole firmware under the official MicroPython WebAssembly build.
//
//   node tests/mpy/boot.mjs TREE
//
// TREE is a device filesystem built by tests/fwboot.py (firmware/, board.py, main.py as
// `glasses flash` builds them, and standins/). It is copied to the root of the build's
// filesystem; tests/mpy/standins/minute.py boots it, and this file calls its step()
// until the minute is over. This build collects garbage only when control is back in
// JavaScript, so each step returns here and the live heap (gc.mem_alloc() right after a
// collection) is read between steps; the largest reading, counted from before the
// first firmware import, is the peak. Prints "MINUTE {report}".
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import { copyTree } from "./mpfs.mjs";

const [tree, mode, modules] = process.argv.slice(2);
let captured = "";
const mp = await loadMicroPython({
  heapsize: 64 * 1024,
  stdout: (s) => { captured += s + "\n"; },
  stderr: (s) => { captured += s + "\n"; },
});

copyTree(mp, tree, "/");
mp.FS.mkdirTree("/data");

const STEP_LIMIT = 100000;
try {
  mp.runPython(`
import sys, os, gc
os.chdir("/")
sys.path[:] = ["/standins", "", ".frozen", "/lib"]
import minute
gc.collect()
`);
  if (mode === "profile") {
    // the heap after each phase of minute.profile_step(), from before the first import
    mp.runPython("import json\n__names = json.dumps(minute.profile_phases())");
    const names = JSON.parse(mp.globals.get("__names"));
    const out = {};
    mp.globals.set("__mods", modules.split(","));
    mp.runPython("minute.setup()");
    for (const name of names) {
      mp.runPython("gc.collect()");
      mp.runPython(`minute.profile_step("${name}", __mods)`);
      mp.runPython("gc.collect()");
      mp.runPython("__live = minute.profile_live()");
      out[name] = mp.globals.get("__live");
    }
    process.stdout.write("PROFILE " + JSON.stringify(out) + "\n");
    process.exit(0);
  }
  let ok = true;
  for (const phase of ["setup", "boot", "add_phone"]) {
    mp.runPython("gc.collect()"); // runs once this call returns
    mp.runPython(`__ok = minute.${phase}()`);
    if (!mp.globals.get("__ok")) { ok = false; break; }
  }
  if (ok) {
    mp.runPython("gc.collect()");
    mp.runPython("minute.phone_done()");
    for (let i = 0; ; i++) {
      mp.runPython("gc.collect()"); // runs once this call returns
      mp.runPython("minute.measure()");
      mp.runPython("__done = minute.step()");
      if (mp.globals.get("__done") || i > STEP_LIMIT) break;
    }
    mp.runPython("gc.collect()");
    mp.runPython("minute.measure()");
  }
  mp.runPython("import json\n__out = json.dumps(minute.report())");
  process.stdout.write("MINUTE " + mp.globals.get("__out") + "\n");
} catch (e) {
  process.stderr.write((e.type ? `${e.type}: ${e.message}` : String(e)) + "\n" + captured);
  process.exit(1);
}
