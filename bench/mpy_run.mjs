// Runs one benchmark file under the official MicroPython WebAssembly build.
//   node bench/mpy_run.mjs ROOT BENCH_FILE
// The file defines `async def main()` returning a dict of figures; it is printed as JSON on
// the last line of stdout. firmware/ is copied into the MicroPython filesystem first.
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import fs from "fs";
import path from "path";

const [root, file] = process.argv.slice(2);
const mp = await loadMicroPython({
  heapsize: 256 * 1024,
  stdout: (s) => process.stderr.write(s + "\n"),
  stderr: (s) => process.stderr.write(s + "\n"),
});

function copyTree(src, dst) {
  mp.FS.mkdirTree(dst);
  for (const name of fs.readdirSync(src)) {
    const s = path.join(src, name);
    if (fs.statSync(s).isDirectory()) {
      if (name !== "__pycache__") copyTree(s, dst + "/" + name);
    } else if (name.endsWith(".py")) {
      mp.FS.writeFile(dst + "/" + name, fs.readFileSync(s));
    }
  }
}
copyTree(path.join(root, "firmware"), "/work/firmware");
mp.FS.writeFile("/work/bench_main.py", fs.readFileSync(file));
try {
  mp.runPython('import sys\nsys.path.insert(0, "/work")\nimport bench_main');
  await mp.runPythonAsync("import json\n__out = json.dumps(await bench_main.main())");
  process.stdout.write(mp.globals.get("__out") + "\n");
} catch (e) {
  process.stderr.write((e.type ? `${e.type}: ${e.message}` : String(e)) + "\n");
  process.exit(1);
}
