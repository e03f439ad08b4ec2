// Copies a host folder into a MicroPython WebAssembly instance's filesystem, for the
// runners (runner.mjs, boot.mjs; bench/mpy_run.mjs has its own). Folders named
// __pycache__ are left out; keep(name) says which files go.
import fs from "fs";
import path from "path";

export function copyTree(mp, src, dst, keep = () => true) {
  mp.FS.mkdirTree(dst);
  for (const name of fs.readdirSync(src)) {
    const s = path.join(src, name);
    const d = (dst.endsWith("/") ? dst : dst + "/") + name;
    if (fs.statSync(s).isDirectory()) {
      if (name !== "__pycache__") copyTree(mp, s, d, keep);
    } else if (keep(name)) {
      mp.FS.writeFile(d, fs.readFileSync(s));
    }
  }
}
