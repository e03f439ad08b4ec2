"""The rules of the tree's layout, checked by reading the imports (docs/architecture.md).

- firmware/runtime imports nothing else of the firmware; firmware/protocol imports only
  runtime (and itself); no firmware or board module imports boards, sim or host_tools,
  and they import only modules MicroPython has.
- host_tools imports sim only inside the simulator's commands (host_tools/cli/sim.py and
  world.py, in a function); importing every host_tools module leaves `machine`,
  `bluetooth` and `sim` out of sys.modules.
- host_tools' exceptions live in host_tools/errors.py, but for the flasher's and the voice
  feature's own (errors.py says why) and private ones.
- No module is longer than MAX_LINES, except generated data.
"""
import ast
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_LINES = 400
SIM_COMMANDS = (os.path.join("host_tools", "cli", "sim.py"),
                os.path.join("host_tools", "cli", "world.py"))
GENERATED = ("firmware/voice/phrases/",)  # ADPCM data written by host_tools/voice/make_phrases
# What the firmware may import: MicroPython's own modules (and itself).
MICROPYTHON = {"micropython", "machine", "bluetooth", "time", "struct", "sys", "os", "errno",
               "gc", "array", "io", "math", "random", "hashlib", "binascii", "select",
               "uctypes", "vfs", "deflate", "esp32", "firmware",
               "camera"}  # micropython-camera-API (a user C module): firmware/drivers/camera.py


def _py_files(top):
    for root, dirs, files in os.walk(os.path.join(ROOT, top)):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for f in sorted(files):
            if f.endswith(".py"):
                yield os.path.relpath(os.path.join(root, f), ROOT)


def _imports(rel):
    """(module, line, inside_a_function) for every import in the file."""
    tree = ast.parse(open(os.path.join(ROOT, rel)).read(), rel)
    out = []

    def visit(node, in_fn):
        for child in ast.iter_child_nodes(node):
            fn = in_fn or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                out.extend((a.name, child.lineno, in_fn) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module:
                base = child.module
                out.append((base, child.lineno, in_fn))
                # `from firmware import version` names the module firmware.version
                out.extend((base + "." + a.name, child.lineno, in_fn) for a in child.names
                           if base in ("firmware",) or base.startswith("firmware."))
            visit(child, fn)

    visit(tree, False)
    return out


def _firmware_package(name):
    """'firmware.protocol.session' -> 'protocol'; 'firmware.app' -> 'app'."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def _is_module(name):
    path = os.path.join(ROOT, *name.split("."))
    return os.path.isdir(path) or os.path.exists(path + ".py")


def test_runtime_and_protocol_stand_alone():
    bad = []
    for top, allowed in (("firmware/runtime", {"runtime"}),
                         ("firmware/protocol", {"runtime", "protocol"})):
        for rel in _py_files(top):
            for name, line, _ in _imports(rel):
                if name.startswith("firmware.") and _is_module(name):
                    if _firmware_package(name) not in allowed:
                        bad.append("%s:%d imports %s" % (rel, line, name))
    assert not bad, "\n".join(bad)


def test_firmware_imports_only_micropython_modules():
    bad = []
    for top in ("firmware", "boards"):
        for rel in _py_files(top):
            for name, line, _ in _imports(rel):
                root = name.split(".")[0]
                if root not in MICROPYTHON:
                    bad.append("%s:%d imports %s" % (rel, line, name))
    assert not bad, "\n".join(bad)


def test_host_tools_imports_sim_only_in_the_simulator_command():
    bad = []
    for rel in _py_files("host_tools"):
        for name, line, in_fn in _imports(rel):
            if name.split(".")[0] != "sim":
                continue
            if rel not in SIM_COMMANDS or not in_fn:
                bad.append("%s:%d imports %s" % (rel, line, name))
    assert not bad, "\n".join(bad)


def test_importing_host_tools_installs_no_hardware_mirrors():
    mods = []
    for rel in _py_files("host_tools"):
        name = rel[:-3].replace(os.sep, ".")
        if name.endswith(".__init__"):
            name = name[:-len(".__init__")]
        if name.endswith("__main__"):
            continue
        mods.append(name)
    code = ("import importlib, sys\n"
            "for m in %r:\n"
            "    importlib.import_module(m)\n"
            "print(sorted(n for n in sys.modules if n in ('machine', 'bluetooth') or "
            "n == 'sim' or n.startswith('sim.')))\n" % mods)
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]", r.stdout


def test_host_exceptions_have_one_home():
    import importlib
    import inspect
    bad = []
    for rel in _py_files("host_tools"):
        parts = rel[:-3].split(os.sep)
        if parts[1] in ("flash", "voice", "errors") or parts[-1] == "__main__":
            continue
        name = ".".join(p for p in parts if p != "__init__")
        for cname, obj in vars(importlib.import_module(name)).items():
            if inspect.isclass(obj) and issubclass(obj, BaseException) and \
                    obj.__module__ == name and not cname.startswith("_"):
                bad.append("%s defines %s" % (rel, cname))
    assert not bad, "\n".join(bad)


def test_no_module_is_longer_than_a_reader_can_hold():
    long = []
    for top in ("firmware", "boards", "sim", "host_tools", "tests", "bench"):
        for rel in _py_files(top):
            if rel.replace(os.sep, "/").startswith(GENERATED):
                continue
            with open(os.path.join(ROOT, rel)) as f:
                n = sum(1 for _ in f)
            if n > MAX_LINES:
                long.append("%s: %d lines" % (rel, n))
    assert not long, "\n".join(long)
