"""A board whose heap_bytes cannot hold what it runs fails at flash time, before the
device is touched, naming what to shrink (host_tools/flash/budget.py); the estimate it
makes is checked against the whole firmware measured on MicroPython's 32-bit WebAssembly
build (tests/fwboot.py), board by board."""
import os
import re

import pytest

import fwboot
from host_tools import cli
from host_tools.flash import budget, build

PICO = os.path.join(build.ROOT, "boards", "pico2w_dev", "board.py")


@pytest.fixture
def tiny_root(tmp_path, monkeypatch):
    """A checkout with one more board: the Pico 2 W's parts on a 128 KB heap."""
    root = tmp_path / "repo"
    (root / "boards" / "tinyboard").mkdir(parents=True)
    src = open(PICO).read()
    src = src.replace('"heap_bytes": 457024', '"heap_bytes": 131072')
    assert '"heap_bytes": 131072' in src
    (root / "boards" / "tinyboard" / "board.py").write_text(src)
    os.symlink(os.path.join(build.ROOT, "firmware"), root / "firmware")
    monkeypatch.setattr(build, "ROOT", str(root))
    return root


def test_a_heap_too_small_fails_before_the_port_naming_what_to_shrink(tiny_root, capsys):
    rc = cli.main(["flash", "--port", "/dev/no-such-port", "--board", "tinyboard"])
    err = " ".join(capsys.readouterr().err.split())
    assert rc == 1
    assert "board tinyboard: heap_bytes 131072 (128 KB) is too small" in err, err
    assert "does not exist" not in err  # the port was never opened
    for what in ("voice_offline_bytes (32768)", "voice_ring_frames (24", "log_records",
                 "MICROPY_VFS_ROM", "boards/tinyboard/manifest.py"):
        assert what in err, (what, err)
    assert re.search(r"voice \d+ KB", err), err


def test_code_in_flash_and_smaller_buffers_shrink_the_estimate_by_what_they_save(tiny_root):
    tree = build.firmware_tree("tinyboard")
    data = budget.board_data(tree, "tinyboard")
    code = budget.code_bytes(tree)
    mpy, mpy_code, per, _ = budget.estimate(data, build.ROOT, code)
    rom, rom_code, _, _ = budget.estimate(data, build.ROOT, code, "romfs")
    assert rom_code < mpy_code and mpy - rom == mpy_code - rom_code
    data["config"] = {"voice_offline_bytes": 4096, "voice_ring_frames": 12,
                      "voice_jitter_slots": 4, "voice_jitter_packet_bytes": 256}
    small, _, per_small, _ = budget.estimate(data, build.ROOT, code, "romfs")
    saved = (32768 - 4096) + (24 - 12) * 640 + (8 * 643 - 4 * 256)
    assert rom - small == saved == per["voice"] - per_small["voice"]
    data["heap_bytes"] = 224 * 1024  # that, on a 224 KB heap: it fits (camera, power code)
    assert budget.check("tinyboard", data, build.ROOT, code, "romfs").startswith("heap:")
    # a board without a radio or a microphone runs neither feature, nor pays for it
    data["caps"] = tuple(c for c in data["caps"] if c != "ble")
    del data["parts"]["mic"]
    assert set(budget.features(data)) == {"board", "core", "senses", "notify", "ota", "rest"}


@pytest.mark.parametrize("board", build.boards())
def test_the_estimate_is_within_a_tenth_of_the_measured_peak(board):
    tree = build.firmware_tree(board)
    total, code, per, _ = budget.estimate(budget.board_data(tree, board), build.ROOT,
                                          budget.code_bytes(tree))
    rep = fwboot.run_wasm(board)
    assert rep["ok"], rep.get("errors")
    peak = rep["peak"]
    assert abs(total - peak) <= peak // 10, (
        "%s: the flash-time estimate %d bytes (code %d, %r) is off the measured peak %d by "
        "more than a tenth: update host_tools/flash/budget.py's constants from `make bench`"
        % (board, total, code, per, peak))
