# firmware/bootmain.py: the copy boot.select() names is imported from its own folder (the
# modules imported before are dropped), a copy that does not import is rolled back to the
# previous one and the reason kept, a trial copy that stops resets the board. A package
# and board module with test names stand in for `firmware` and `board`, so the firmware
# under test stays imported. Runs under CPython and MicroPython.
import os
import sys

from fwtest import raises, temp_root

from firmware import bootmain
from firmware.ota import boot

_n = [0]


def _names():
    _n[0] += 1
    return "otabootpkg%d" % _n[0], "otabootbrd%d" % _n[0]


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _copy(root, slot, pkg, brd, version, app=None):
    """A firmware copy: at the root (slot None: the factory copy) or in slot_<slot>."""
    d = root if slot is None else root + "/slot_" + slot
    for p in (d, d + "/" + pkg):
        try:
            os.mkdir(p)
        except OSError:
            pass
    _write(d + "/" + pkg + "/__init__.py", "")
    _write(d + "/" + pkg + "/util.py", "WHERE = %r\n" % version)
    _write(d + "/" + pkg + "/app.py", app or (
        "import %s.util as util\nVERSION = %r\n"
        "def main(board):\n    board.RAN.append((VERSION, util.WHERE))\n" % (pkg, version)))
    if slot is None:
        _write(d + "/" + brd + ".py", "RAN = []\n")
    else:
        _write(d + "/" + boot.OK_MARK, version)


class _Env:
    """sys.path and sys.modules as they were, restored after each test."""

    def __init__(self, pkg, brd):
        self.pkg = pkg
        self.brd = brd
        self.path = list(sys.path)
        self.logs = []
        self.resets = []

    def boot(self, root):
        return bootmain.main(root, self.pkg, self.brd, log=self.logs.append,
                             reset=lambda: self.resets.append(1))

    def ran(self):
        return sys.modules[self.brd].RAN

    def close(self):
        bootmain.drop_modules(self.pkg, self.brd)
        sys.path[:] = self.path


def test_the_factory_copy_boots_when_there_is_no_update():
    root = temp_root("bootmain")
    pkg, brd = _names()
    _copy(root, None, pkg, brd, "0.1.0")
    env = _Env(pkg, brd)
    try:
        sys.path.insert(0, root)  # main.py imported from the factory copy first: booting
        __import__(pkg + ".util")  # that copy must not import it a second time (both
        before = sys.modules[pkg + ".util"]  # copies' code would stay in the heap)
        env.boot(root)
        assert env.ran() == [("0.1.0", "0.1.0")]
        assert sys.path[0] == root and "factory copy" in env.logs[-1]
        assert sys.modules[pkg + ".app"].__file__.startswith(root + "/" + pkg)
        assert sys.modules[pkg + ".util"] is before
    finally:
        env.close()


def test_a_switched_slot_is_imported_from_its_own_folder():
    root = temp_root("bootmain")
    pkg, brd = _names()
    _copy(root, None, pkg, brd, "0.1.0")
    _copy(root, "a", pkg, brd, "0.2.0")
    boot.switch(root, "a", "0.2.0")
    env = _Env(pkg, brd)
    try:
        sys.path.insert(0, root)  # main.py imported from the factory copy first
        __import__(pkg + ".util")
        assert sys.modules[pkg + ".util"].WHERE == "0.1.0"
        env.boot(root)
        assert env.ran() == [("0.2.0", "0.2.0")]  # util came from the slot too
        assert sys.path[0] == root + "/slot_a" and sys.path[1] == root
        st = boot.read_state(root)
        assert st[0] == "a" and st[2] and st[3] == 1
        assert "slot a (0.2.0, trial boot 1)" in env.logs[-1]
    finally:
        env.close()


def test_a_copy_that_does_not_import_is_rolled_back_and_reported():
    root = temp_root("bootmain")
    pkg, brd = _names()
    _copy(root, None, pkg, brd, "0.1.0")
    _copy(root, "a", pkg, brd, "0.2.0")
    boot.switch(root, "a", "0.2.0")
    boot.mark_healthy(root)
    _copy(root, "b", pkg, brd, "0.3.0", app="def main(board) oops\n")
    boot.switch(root, "b", "0.3.0")
    env = _Env(pkg, brd)
    try:
        env.boot(root)
        assert env.ran() == [("0.2.0", "0.2.0")]  # back to the previous slot, not factory
        st = boot.read_state(root)
        assert st[0] == "a" and not st[2] and st[4] == "0.2.0"
        assert "rolled back from b (0.3.0)" in st[6] and "SyntaxError" in st[6], st
        assert any("cannot run: SyntaxError" in line for line in env.logs)
        env.close()
        _copy(root, "a", pkg, brd, "0.2.0", app="import no_such_module_here\n")
        env.boot(root)  # now a fails too: down to the factory copy
        assert env.ran() == [("0.1.0", "0.1.0")]
        st = boot.read_state(root)
        assert st[0] == boot.FACTORY and "no_such_module_here" in st[6], st
    finally:
        env.close()


def test_a_trial_copy_that_stops_resets_and_a_confirmed_one_raises():
    root = temp_root("bootmain")
    pkg, brd = _names()
    _copy(root, None, pkg, brd, "0.1.0")
    _copy(root, "a", pkg, brd, "0.2.0", app="def main(board):\n    raise OSError('no i2c')\n")
    boot.switch(root, "a", "0.2.0")
    env = _Env(pkg, brd)
    try:
        env.boot(root)
        assert env.resets == [1] and "stopped: OSError" in env.logs[-1]
        boot.mark_healthy(root)
        raises(OSError, env.boot, root)  # not on trial: the error shows (REPL, log)
    finally:
        env.close()


def test_a_factory_copy_that_does_not_import_raises():
    root = temp_root("bootmain")
    pkg, brd = _names()
    _copy(root, None, pkg, brd, "0.1.0", app="import no_such_module_either\n")
    env = _Env(pkg, brd)
    try:
        raises(ImportError, env.boot, root)
        raises(ValueError, boot.failed, root, boot.FACTORY, "x")
    finally:
        env.close()

