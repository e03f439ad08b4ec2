"""The whole firmware of each board runs a minute on real MicroPython at the board's heap
(tests/fwboot.py: the tree `glasses flash` builds, on stand-ins below the HAL line, with
the phone on the radio): on the unix port at a fixed `-X heapsize` (from .mpy files, and
from a ROMFS image), and under the WebAssembly build with its whole peak, imports
included, within heap_bytes. A heap that is too small fails naming the heap and what
ran out; a board without a radio loads none of the radio's modules."""
import pytest

import fwboot
from host_tools.flash import build

BOARDS = build.boards()


def _ran(board, rep, heap):
    assert rep["ok"], fwboot.explain(board, rep, heap)
    missing = fwboot.check(rep)
    assert not missing, "%s: the minute ran at %d KiB but %s" % (board, heap // 1024,
                                                                "; ".join(missing))


@pytest.mark.parametrize("board", BOARDS)
def test_the_whole_firmware_runs_its_minute_at_the_board_heap_on_the_unix_port(board):
    heap = fwboot.board_data(board)["heap_bytes"]
    _ran(board, fwboot.run_unix(board, heap), heap)


@pytest.mark.parametrize("board", BOARDS)
def test_the_whole_firmware_runs_its_minute_from_a_romfs_image(board):
    heap = fwboot.board_data(board)["heap_bytes"]
    rep = fwboot.run_unix(board, heap, romfs=True)
    _ran(board, rep, heap)
    assert "firmware.app" in rep["modules"]


@pytest.mark.parametrize("board", BOARDS)
def test_the_whole_peak_under_the_webassembly_build_is_within_the_board_heap(board):
    heap = fwboot.board_data(board)["heap_bytes"]
    rep = fwboot.run_wasm(board)
    _ran(board, rep, heap)
    assert 0 < rep["live_boot"] <= rep["peak"]
    assert rep["peak"] <= heap, (
        "%s: the whole firmware's peak under the 32-bit WebAssembly build is %d bytes "
        "(imports included), over heap_bytes %d: shrink the buffers in DATA['config'] or "
        "the code" % (board, rep["peak"], heap))
    # what DATA says is left from .mpy files is what is left, within a tenth of the heap
    said = fwboot.board_data(board)["heap_left_bytes"]["mpy"]
    assert abs(said - (heap - rep["peak"])) <= heap // 10, (
        "%s: DATA['heap_left_bytes']['mpy'] says %d, the measure %d: update it from "
        "`make bench`" % (board, said, heap - rep["peak"]))


def test_a_heap_too_small_fails_naming_the_heap_and_what_ran_out():
    heap = 96 * 1024
    rep = fwboot.run_unix("pico2w_dev", heap)
    assert not rep["ok"]
    msg = fwboot.explain("pico2w_dev", rep, heap)
    assert "at a 96 KiB heap (-X heapsize=98304w)" in msg, msg
    assert "ran out of heap" in msg and "MemoryError" in msg, msg
    assert "allocating" in msg and "(in firmware/" in msg, msg  # how much, and where


def test_a_board_without_a_radio_loads_none_of_the_radio_s_modules():
    no_ble = b'\nDATA["caps"] = tuple(c for c in DATA["caps"] if c != "ble")\n'
    full = fwboot.run_unix("pico2w_dev", 4 << 20, words=False)
    lean = fwboot.run_unix("pico2w_dev", 4 << 20, words=False, board_extra=no_ble)
    assert full["ok"] and lean["ok"], (full.get("errors"), lean.get("errors"))
    radio = [m for m in full["modules"] if m.startswith("firmware.ble")]
    assert radio and not [m for m in lean["modules"] if m.startswith("firmware.ble")]
    assert "link" in full["services"] and "link" not in lean["services"]
    assert lean["live_boot"] < full["live_boot"]
