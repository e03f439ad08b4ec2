"""What "booting" means in the simulator: the device's boot selection on the world's flash
folder, with proof that the selected copy could run.

At every boot SimGlasses runs firmware/bootmain.choose() (the code the device's main.py
runs) on the flash folder, with `SimBoot.try_copy` in place of the device's import:

- the factory copy is the repository's firmware/ and the board's boards/<name>/board.py
  (what `glasses flash` puts on the device), and is what the simulator runs;
- an update slot is *proven*: its manifest.cbor is there and every file it lists is
  present with its size and SHA-256 (complete), every .py compiles, and a separate Python
  process with the slot first on sys.path imports every module of the slot's firmware/
  package (checking that they come from the slot) and its board.py (importable). A slot
  that fails is rolled back exactly as a device rolls back a copy that does not import
  (boot.failed), and the next copy is tried.

What runs after a slot is chosen: the repository's firmware code (the simulator cannot
swap the modules the host tools in the same process share), under the slot's version
(firmware.version.VERSION is set from the slot's firmware/version.py) and with the slot's
board.py (board files are data plus build(); a package that ships a broken one breaks the
simulated boot as it would the device). Each BootRecord lists the slot files whose code
differs from the repository's (`differs`): for those the simulator proves the files but does
not run them. The import check runs a separate process (about a second, once per package);
in real time the simulated boot waits for it, as a board's boot waits for its imports.
"""
import hashlib
import importlib.util
import json
import os
import subprocess
import sys

from firmware.runtime import cbor
from firmware.ota import boot
from host_tools.flash.build import read_version

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MANIFEST_NAME = "manifest.cbor"

_IMPORT_CHECK = r"""
import importlib, json, os, sys
slot, root = sys.argv[1], sys.argv[2]
sys.path[:0] = [slot, root]
from sim import mirror
mirror.install()
bad = []
real = os.path.realpath(slot)
pkg = os.path.join(slot, "firmware")
for dirpath, dirs, files in os.walk(pkg):
    dirs[:] = sorted(d for d in dirs if d != "__pycache__")
    for f in sorted(files):
        if not f.endswith(".py"):
            continue
        name = os.path.relpath(os.path.join(dirpath, f), slot)[:-3].replace(os.sep, ".")
        if name.endswith(".__init__"):
            name = name[:-9]
        try:
            mod = importlib.import_module(name)
            if not os.path.realpath(mod.__file__).startswith(real):
                bad.append([name, "imported from %s, not from the slot" % mod.__file__])
        except BaseException as e:
            bad.append([name, "%s: %s" % (type(e).__name__, e)])
if os.path.exists(os.path.join(slot, "board.py")):
    try:
        import board
        if not hasattr(board, "build"):
            bad.append(["board", "board.py has no build()"])
    except BaseException as e:
        bad.append(["board", "%s: %s" % (type(e).__name__, e)])
print(json.dumps(bad))
"""


class CopyBroken(Exception):
    """The selected copy could not run on the device."""


class BootRecord(dict):
    """One boot: boot (number), copy ("factory", "a", "b"), version, path, on_trial,
    trial_boot, event (the boot state's last event), files (checked), proof (text),
    differs (slot files whose code the simulator did not run), rolled_back ([reasons])."""


def _sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(65536), b""):
            h.update(block)
    return h.digest()


def check_complete(path):
    """(manifest dict, its digest): every file of the slot's manifest is there with its
    size and SHA-256. CopyBroken otherwise."""
    mpath = os.path.join(path, MANIFEST_NAME)
    try:
        with open(mpath, "rb") as f:
            mbytes = f.read()
        m = cbor.loads(mbytes)
        entries = m[2]
    except (OSError, cbor.CBORError, KeyError, TypeError) as e:
        raise CopyBroken("no readable %s: %s" % (MANIFEST_NAME, e)) from None
    for p, size, digest in entries:
        full = os.path.join(path, p)
        if not os.path.isfile(full):
            raise CopyBroken("%s is missing" % p)
        if os.path.getsize(full) != size:
            raise CopyBroken("%s has %d bytes, the manifest says %d" % (
                p, os.path.getsize(full), size))
        if _sha256_file(full) != digest:
            raise CopyBroken("%s does not match its SHA-256" % p)
    return m, hashlib.sha256(mbytes).hexdigest()


def check_compiles(path, m):
    for p, _, _ in m[2]:
        if p.endswith(".py"):
            with open(os.path.join(path, p), "rb") as f:
                src = f.read()
            try:
                compile(src, p, "exec", dont_inherit=True)
            except (SyntaxError, ValueError) as e:
                raise CopyBroken("%s does not compile: %s" % (p, e)) from None


def check_imports(path):
    """Import every module of the slot in a fresh Python process. CopyBroken if any fails."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    try:
        out = subprocess.run([sys.executable, "-B", "-c", _IMPORT_CHECK, path, ROOT],
                             cwd=path, env=env, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        raise CopyBroken("importing the slot took over 120 s") from None
    try:
        bad = json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise CopyBroken("the import check failed: %s" % out.stderr[-500:]) from None
    if bad:
        raise CopyBroken("%d module(s) do not import: %s" % (
            len(bad), "; ".join("%s (%s)" % (n, why) for n, why in bad[:3])))


class SimBoot:
    """Boot selection for one SimGlasses. A slot's files are checked against its manifest
    at every boot; the compile and import checks run once per distinct manifest (files
    that match the same manifest give the same result)."""

    def __init__(self, board_name, board_module, note=None):
        self.board_name = board_name
        self.board_module = board_module
        self.note = note or (lambda text: None)
        self._imports = {}  # manifest digest -> None (imports) or the CopyBroken text
        self._boards = {}  # manifest digest -> loaded board module
        self.repo_version = read_version(os.path.join(ROOT, "firmware", "version.py"))

    def select(self, flash_dir, number):
        """Run the device's boot selection on the flash folder; returns (BootRecord,
        board module to build)."""
        from firmware import bootmain
        rolled = []

        def log(text):
            rolled.append(text)
            self.note(text)

        path, st, res = bootmain.choose(flash_dir, self.try_copy, log=log)
        rec, board_module = res
        rec.update(boot=number, path=path, on_trial=bool(st[2]), trial_boot=st[3],
                   event=st[6], rolled_back=rolled)
        self.note("boot #%d: %s %s%s: %s" % (
            number, "factory copy" if rec["copy"] == boot.FACTORY else "slot " + rec["copy"],
            rec["version"], " (trial boot %d)" % st[3] if st[2] else "", rec["proof"]))
        return rec, board_module

    def try_copy(self, path, copy, st):
        if copy == boot.FACTORY:
            return BootRecord(copy=copy, version=self.repo_version, files=0, differs=[],
                              proof="the repository's firmware/ (what the simulator runs)"
                              ), self.board_module
        m, digest = check_complete(path)
        if digest not in self._imports:  # the files match the manifest: same result as
            try:  # the last time this package was proven
                check_compiles(path, m)
                check_imports(path)
                self._imports[digest] = None
            except CopyBroken as e:
                self._imports[digest] = str(e)
        if self._imports[digest] is not None:
            raise CopyBroken(self._imports[digest])
        version = read_version(os.path.join(path, "firmware", "version.py")) or m[0]
        board_module = self.board_module
        if os.path.isfile(os.path.join(path, "board.py")):
            board_module = self._board(path, digest)
        return BootRecord(copy=copy, version=version, files=len(m[2]),
                          differs=self._differs(path, m),
                          proof="complete (%d files, SHA-256 checked), compiles, imports"
                          % len(m[2])), board_module

    def _board(self, path, digest):
        mod = self._boards.get(digest)
        if mod is None:
            spec = importlib.util.spec_from_file_location("sim_slot_board_" + digest[:12],
                                                          os.path.join(path, "board.py"))
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            self._boards[digest] = mod
        return mod

    def _differs(self, path, m):
        out = []
        for p, _, digest in m[2]:
            if p in ("firmware/version.py", "board.py"):  # both are used from the slot
                continue
            repo = os.path.join(ROOT, p)
            if not os.path.isfile(repo) or _sha256_file(repo) != digest:
                out.append(p)
        return out
