"""The simulator's boot (sim/ota_boot.py) proves the copy it boots: a slot that is
incomplete, altered, does not compile or does not import is rolled back as the device
would, with the reason; a good slot boots under its own version and board.py."""
import os

import pytest

from firmware.ota import boot, manifest
from firmware.ota.receiver import Receiver
from host_tools.ota import package as P
from sim.runner import SimGlasses

BOARD = "xiao_esp32s3_sense"


def _install(flash, files, version="0.2.0"):
    """Stage and switch to a package the way the OTA service does."""
    rx = Receiver(flash)
    rx.begin(manifest.envelope(manifest.build(version, files)))
    for i, (_, data) in enumerate(files):
        off = 0
        while off < len(data):
            off = rx.chunk(i, off, data[off:off + 4096])
    rx.finish()


def _boot(flash):
    g = SimGlasses(BOARD, seed=3, flash_dir=flash)
    try:
        g.run_for(0.2)
        return g.boot_records[0], g.log_text()
    finally:
        g.close()


def _edit(files, path, fn):
    out = [(p, fn(d) if p == path else d) for p, d in files]
    assert out != files
    return out


@pytest.fixture
def tree():
    return P.with_version(P.collect(board=BOARD), "0.2.0")


def test_a_good_slot_boots_under_its_version(tmp_path, tree):
    flash = str(tmp_path)
    _install(flash, tree)
    rec, log = _boot(flash)
    assert rec["copy"] == "a" and rec["version"] == "0.2.0" and rec["on_trial"]
    assert "imports" in rec["proof"] and rec["differs"] == [] and not rec["rolled_back"]
    assert "boot #1: slot a 0.2.0 (trial boot 1)" in log


@pytest.mark.parametrize("damage,why", [
    ("missing", "firmware/runtime/sched.py is missing"),
    ("altered", "firmware/runtime/sched.py does not match its SHA-256"),
])
def test_an_incomplete_or_altered_slot_is_rolled_back(tmp_path, tree, damage, why):
    flash = str(tmp_path)
    _install(flash, tree)
    path = os.path.join(flash, "slot_a", "firmware", "runtime", "sched.py")
    if damage == "missing":
        os.remove(path)
    else:  # same size, one byte changed
        with open(path, "r+b") as f:
            f.seek(10)
            b = f.read(1)
            f.seek(10)
            f.write(bytes([b[0] ^ 0x20]))
    rec, log = _boot(flash)
    assert rec["copy"] == boot.FACTORY and rec["version"] == "0.1.0"
    assert len(rec["rolled_back"]) == 1 and why in rec["rolled_back"][0]
    st = boot.read_state(flash)
    assert st[0] == boot.FACTORY and "rolled back from a (0.2.0)" in st[6] and why in st[6]


def test_a_slot_that_does_not_compile_or_import_is_rolled_back(tmp_path, tree):
    flash = str(tmp_path / "syntax")
    os.makedirs(flash)
    _install(flash, _edit(tree, "firmware/ota/boot.py", lambda d: d + b"\ndef broken(:\n"))
    rec, _ = _boot(flash)
    assert rec["copy"] == boot.FACTORY and "firmware/ota/boot.py does not compile" in \
        rec["rolled_back"][0]
    flash = str(tmp_path / "imports")
    os.makedirs(flash)
    _install(flash, _edit(tree, "firmware/sense/wear.py",
                          lambda d: b"import no_such_module_on_the_glasses\n" + d))
    rec, _ = _boot(flash)
    assert rec["copy"] == boot.FACTORY
    why = rec["rolled_back"][0]  # the module and every module importing it
    assert "do not import:" in why and "firmware.sense.wear" in why, why
    assert "No module named 'no_such_module_on_the_glasses'" in why
