"""`glasses flash` against real MicroPython 1.9.2 on an emulated BBC micro:bit (qemu).

The micro:bit is the small/old-port case: `os` has only listdir/remove/size, no hashlib,
no rename, no directories, no .mpy support, classic raw REPL only, ~15 KB of flash
filesystem and ~9 KB of free heap. Each test boots a fresh board (an empty filesystem).
"""
import pytest

from flash_boards import Microbit, run_on, snapshot
from host_tools import cli
from host_tools.flash import deploy, transport
from host_tools.flash import errors as E


@pytest.fixture
def microbit():
    board = Microbit().start()
    yield board
    board.stop()


def text(n, tag):
    """About n bytes of Python source: a constant, then comment lines."""
    out = "TAG = %r\n" % tag
    line = "# " + ("%s " % tag) * (60 // (len(tag) + 1)) + "\n"
    while len(out) + len(line) <= n:
        out += line
    return (out + "#" * (n - len(out) - 1) + "\n").encode()


TREE = {
    "main.py": b"import lib\nprint('booted', lib.TAG, lib.helper())\n",
    "lib.py": b"from util import helper\nTAG = 'v1'\n",
    "util.py": b"def helper():\n    return 'ok'\n",
    "big.py": text(2600, "big1"),
    "data.py": text(900, "data1"),
}


def files(tree):
    return sorted(tree.items())


def user_files(snap):
    return {k: v for k, v in snap.items() if k != "manifest.cbor"}


def test_first_flash_writes_everything_and_boots(microbit):
    res = deploy.flash(microbit.port, files(TREE), version="1.0")
    assert sorted(res.written) == sorted(TREE)
    assert res.skipped == [] and res.removed == []
    assert res.info.check == "adler32" and not res.info.has_rename
    assert res.mode == "classic raw REPL"
    assert "booted v1 ok" in res.boot_log  # main.py ran after the soft reset
    snap = snapshot(microbit.port)
    assert user_files(snap) == TREE
    assert "manifest.cbor" in snap


def test_reflash_unchanged_writes_nothing_and_does_not_reset(microbit):
    deploy.flash(microbit.port, files(TREE))
    res = deploy.flash(microbit.port, files(TREE))
    assert res.written == [] and res.resumed == [] and res.removed == []
    assert sorted(res.skipped) == sorted(TREE)
    assert res.bytes_written == 0 and not res.manifest_written
    assert res.boot_log == ""


def test_one_changed_file_is_the_only_one_written(microbit):
    deploy.flash(microbit.port, files(TREE))
    new = dict(TREE, **{"lib.py": b"from util import helper\nTAG = 'v2'\n"})
    res = deploy.flash(microbit.port, files(new))
    assert res.written == ["lib.py"] and res.manifest_written
    assert sorted(res.skipped) == sorted(set(TREE) - {"lib.py"})
    assert "booted v2 ok" in res.boot_log
    assert user_files(snapshot(microbit.port)) == new


def test_a_removed_file_is_removed_on_the_device(microbit):
    deploy.flash(microbit.port, files(TREE))
    new = {k: v for k, v in TREE.items() if k != "data.py"}
    res = deploy.flash(microbit.port, files(new))
    assert res.removed == ["data.py"] and res.written == []
    assert user_files(snapshot(microbit.port)) == new


def test_files_the_flasher_does_not_own_are_left_alone(microbit):
    run_on(microbit.port, "f=open('notes.txt','w')\nf.write('mine')\nf.close()")
    deploy.flash(microbit.port, files(TREE))
    deploy.flash(microbit.port, files({"main.py": b"print('small')\n"}))
    snap = snapshot(microbit.port)
    assert snap["notes.txt"] == b"mine"
    assert "big.py" not in snap and snap["main.py"] == b"print('small')\n"


def test_interrupted_transfer_resumes_and_never_leaves_a_half_file(microbit, monkeypatch):
    deploy.flash(microbit.port, files(TREE), version="1")
    new = dict(TREE, **{"big.py": text(2600, "big2"), "data.py": text(2600, "data2"),
                        "util.py": b"def helper():\n    return 'ok2'\n"})
    opened = []
    real_open = transport.open_port
    monkeypatch.setattr(transport, "open_port",
                        lambda port, baud=115200: opened.append(real_open(port, baud))
                        or opened[-1])
    cuts = []

    def pull_the_cable(path, done, size):
        # Files go in name order: big.py is complete, data.py has had one chunk.
        if path == "data.py" and done < size:
            cuts.append(done)
            opened[-1].close()
    with pytest.raises(E.TransferInterrupted, match="run the same command again"):
        deploy.flash(microbit.port, files(new), version="2", on_chunk=pull_the_cable)
    monkeypatch.undo()
    assert cuts and 0 < cuts[0] < len(new["data.py"])

    # Every real name still holds its whole old file; the new ones wait as .tmp.
    snap = snapshot(microbit.port)
    assert user_files({k: v for k, v in snap.items() if not k.endswith(".tmp")}) == TREE
    assert snap["big.py.tmp"] == new["big.py"]
    assert len(snap.get("data.py.tmp", b"")) < len(new["data.py"])

    res = deploy.flash(microbit.port, files(new), version="2")
    assert res.resumed == ["big.py"]  # complete before the cut: not sent again
    assert sorted(res.written) == ["data.py", "util.py"]
    assert res.bytes_written < len(new["data.py"]) + len(new["util.py"]) + 300
    assert "booted v1 ok2" in res.boot_log
    final = snapshot(microbit.port)
    assert user_files(final) == new
    assert not [n for n in final if n.endswith(".tmp")]


def fill(port, leave_bytes):
    """Fill the board's flash with fill.bin so that about leave_bytes stay free."""
    n = int(run_on(port, "import os\nf=open('fill.bin','wb')\nn=0\ntry:\n while 1:\n"
                         "  f.write(bytes(128))\n  n+=128\nexcept OSError:\n pass\n"
                         "try:\n f.close()\nexcept OSError:\n pass\ntry:\n"
                         " os.remove('fill.bin')\nexcept OSError:\n pass\nprint(n)"))
    size = max(0, n - leave_bytes)
    run_on(port, "f=open('fill.bin','wb')\nfor i in range(%d):\n f.write(bytes(128))\n"
                 "f.close()" % (size // 128))
    return size // 128 * 128


def test_full_filesystem_fails_cleanly_and_keeps_the_old_files(microbit):
    old = {"main.py": b"import a\n", "a.py": text(600, "a1"), "b.py": text(600, "b1")}
    deploy.flash(microbit.port, files(old), reset="never")
    filled = fill(microbit.port, 1000)
    new = {"main.py": b"import a\n", "a.py": text(1500, "a2"), "b.py": text(1500, "b2")}
    with pytest.raises(E.DeviceFull, match="the files that were on the device before are"):
        deploy.flash(microbit.port, files(new))
    snap = snapshot(microbit.port)
    assert user_files({k: v for k, v in snap.items() if k != "fill.bin"}) == old
    assert len(snap["fill.bin"]) == filled
    assert not [n for n in snap if n.endswith(".tmp")]


def test_no_room_to_move_files_into_place_without_rename_fails_before_touching_them(
        microbit):
    old = {"main.py": b"import a\n", "a.py": text(600, "a1")}
    deploy.flash(microbit.port, files(old), reset="never")
    fill(microbit.port, 2300)
    new = {"main.py": b"import a\n", "a.py": text(1700, "a2")}
    with pytest.raises(E.DeviceFull, match="without os.rename"):
        deploy.flash(microbit.port, files(new))
    snap = snapshot(microbit.port)
    assert snap["a.py"] == old["a.py"] and snap["main.py"] == old["main.py"]
    assert not [n for n in snap if n.endswith(".tmp")]


def test_a_tree_with_folders_fails_before_writing_on_a_flat_filesystem(microbit):
    tree = {"main.py": b"import pkg.mod\n", "pkg/mod.py": b"X = 1\n",
            "pkg/__init__.py": b""}
    with pytest.raises(E.NeedsDirectories, match="pkg/mod.py"):
        deploy.flash(microbit.port, files(tree))
    assert snapshot(microbit.port) == {}


def test_cli_says_which_fallbacks_it_used(microbit, tmp_path, capsys):
    for name, data in TREE.items():
        (tmp_path / name).write_bytes(data)
    rc = cli.main(["flash", "--port", microbit.port, str(tmp_path)])
    out = " ".join(capsys.readouterr().out.split())
    assert rc == 0
    assert "no .mpy support" in out and "deploying .py sources" in out
    assert "size + Adler-32 computed on the device in Python (it has no hashlib)" in out
    assert "no os.rename" in out
    assert "classic raw REPL" in out
    assert "booted v1 ok" in out
