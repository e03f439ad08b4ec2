"""`glasses flash` against a second real MicroPython: the unix port (1.29-preview) behind
a pseudo-terminal, with a littlefs2 volume (see tests/flash_boards.py). It shows what the
micro:bit cannot: raw-paste mode with flow control, SHA-256 on the device, os.rename,
folders, os.statvfs, base64 transfer, and .mpy files compiled for the device's own
version and architecture that the device then imports.

Faults that need a misbehaving device are injected on the device itself: the test
defines an `open` in the REPL's globals (where the flasher's helpers look names up) that
damages writes, as a bad cable or a faulty filesystem would."""
import os
import re

import pytest

from flash_boards import UnixBoard, run_on, snapshot
from host_tools import cli
from host_tools.flash import build, deploy, transport
from host_tools.flash import errors as E



@pytest.fixture(autouse=True)
def _compile_cache(tmp_path_factory, monkeypatch):
    # mpy-cross results are cached by content; keep the tests' cache out of ~/.cache.
    monkeypatch.setenv("GLASSES_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))

@pytest.fixture
def board(tmp_path):
    b = UnixBoard(blocks=1024, workdir=str(tmp_path / "board")).start()
    yield b
    b.stop()


@pytest.fixture
def small_board(tmp_path):
    b = UnixBoard(blocks=64, workdir=str(tmp_path / "small")).start()
    yield b
    b.stop()


def blob(n, seed=1):
    x = seed
    out = bytearray()
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out.append(x >> 16 & 0xFF)
    return bytes(out)


TREE = {
    "main.py": b"import app\nprint('booted', app.VALUE, app.deep())\n",
    "app.py": b"from pkg.sub import mod\nVALUE = 41 + 1\n"
              b"def deep():\n    return mod.NAME\n",
    "pkg/__init__.py": b"",
    "pkg/sub/__init__.py": b"",
    "pkg/sub/mod.py": b"NAME = 'deep module'\n" + b"# padding line\n" * 200,
    "assets/data.bin": blob(40000),
    "notes.txt": b"plain text, deployed as it is\n",
}


def files(tree=TREE):
    return sorted(tree.items())


def deployed(tree=TREE):
    """Device paths after the build: .py compiled to .mpy, except main.py."""
    return sorted(p[:-3] + ".mpy" if p.endswith(".py") and p != "main.py" else p
                  for p in tree)


def test_raw_paste_sha256_rename_folders_and_mpy(board):
    res = deploy.flash(board.port, files(), version="3.1")
    assert res.mode == "raw-paste" and res.windows > 10  # flow control was exercised
    assert res.info.check == "sha256" and res.info.has_rename and res.info.has_dirs
    assert res.info.free_bytes > 0  # os.statvfs on the littlefs volume
    assert sorted(res.written) == deployed()
    assert "booted 42 deep module" in res.boot_log  # the .mpy files import and run
    snap = snapshot(board.port)
    assert sorted(k for k in snap if k != "manifest.cbor") == deployed()
    assert snap["app.mpy"][:2] == b"M\x06"
    assert snap["assets/data.bin"] == TREE["assets/data.bin"]
    assert snap["main.py"] == TREE["main.py"]
    out = run_on(board.port, "import sys\nprint(sys.implementation._mpy)")
    assert build.decode_mpy(int(out))[2] == "x64"


def test_classic_raw_repl_on_the_same_device_gives_the_same_files(board):
    res = deploy.flash(board.port, files(), use_raw_paste=False)
    assert res.mode == "classic raw REPL" and res.windows == 0
    snap = snapshot(board.port)
    assert snap["assets/data.bin"] == TREE["assets/data.bin"]
    assert "booted 42 deep module" in res.boot_log
    # The same tree through raw-paste now: nothing to do.
    again = deploy.flash(board.port, files())
    assert again.written == [] and sorted(again.skipped) == deployed()


def test_change_remove_and_nothing_changed(board):
    deploy.flash(board.port, files())
    new = dict(TREE, **{"app.py": TREE["app.py"].replace(b"41", b"40")})
    del new["notes.txt"]
    res = deploy.flash(board.port, files(new))
    assert res.written == ["app.mpy"] and res.removed == ["notes.txt"]
    assert "booted 41 deep module" in res.boot_log
    res = deploy.flash(board.port, files(new))
    assert res.written == [] and res.removed == [] and res.bytes_written == 0
    assert "notes.txt" not in snapshot(board.port)


def test_removed_folder_goes_too(board):
    deploy.flash(board.port, files())
    new = {k: v for k, v in TREE.items() if not k.startswith("assets/")}
    res = deploy.flash(board.port, files(new))
    assert res.removed == ["assets/data.bin"]
    assert "assets" not in run_on(board.port, "import os\nprint(os.listdir())")


def test_cut_in_the_middle_of_a_raw_paste_command_resumes(board, monkeypatch):
    deploy.flash(board.port, files())
    new = dict(TREE, **{"assets/data.bin": blob(40000, seed=2), "notes.txt": b"v2\n"})
    real_open = transport.open_port
    sent = [0]

    def cutting_open(port, baud=115200):
        ser = real_open(port, baud)
        write = ser.write

        def write_then_cut(data):
            sent[0] += len(data)
            if sent[0] > 20000:  # part-way through the commands that carry data.bin
                ser.close()
            return write(data)
        ser.write = write_then_cut
        return ser
    monkeypatch.setattr(transport, "open_port", cutting_open)
    with pytest.raises(E.TransferInterrupted):
        deploy.flash(board.port, files(new))
    monkeypatch.undo()
    snap = snapshot(board.port)
    assert snap["assets/data.bin"] == TREE["assets/data.bin"]  # the old file, whole
    assert len(snap["assets/data.bin.tmp"]) < 40000
    # Flashing the old tree instead: nothing to write, and the stale .tmp is cleared.
    res = deploy.flash(board.port, files())
    assert res.written == [] and not res.changed
    assert "assets/data.bin.tmp" not in snapshot(board.port)
    res = deploy.flash(board.port, files(new))
    assert res.written == ["assets/data.bin", "notes.txt"]
    final = snapshot(board.port)
    assert final["assets/data.bin"] == new["assets/data.bin"]
    assert not [n for n in final if n.endswith(".tmp")]


def test_cut_between_files_resumes_with_what_was_complete(board, monkeypatch):
    deploy.flash(board.port, files(), reset="never")
    new = dict(TREE, **{"assets/data.bin": blob(40000, seed=3), "notes.txt": b"v3\n",
                        "pkg/sub/mod.py": TREE["pkg/sub/mod.py"].replace(b"deep", b"DEEP")})
    opened = []
    real_open = transport.open_port
    monkeypatch.setattr(transport, "open_port",
                        lambda port, baud=115200: opened.append(real_open(port, baud))
                        or opened[-1])

    def cut(path, done, size):
        if path == "notes.txt":  # assets/data.bin is complete by now
            opened[-1].close()
    with pytest.raises(E.TransferInterrupted):
        deploy.flash(board.port, files(new), on_chunk=cut)
    monkeypatch.undo()
    res = deploy.flash(board.port, files(new))
    assert res.resumed == ["assets/data.bin"]
    assert sorted(res.written) == ["notes.txt", "pkg/sub/mod.mpy"]
    assert res.bytes_written < 2000  # the 40 KB file was not sent again
    assert "booted 42 DEEP module" in res.boot_log


def test_free_space_is_checked_first_where_statvfs_exists(small_board):
    small = {"main.py": b"print('small')\n", "notes.txt": b"old notes\n"}
    deploy.flash(small_board.port, files(small))
    before = snapshot(small_board.port)
    big = dict(small, **{"assets/data.bin": blob(40000), "notes.txt": b"new notes\n"})
    with pytest.raises(E.DeviceFull, match=r"os.statvfs\); nothing was written"):
        deploy.flash(small_board.port, files(big))
    assert snapshot(small_board.port) == before


def test_compile_error_writes_nothing(board):
    deploy.flash(board.port, files())
    before = snapshot(board.port)
    bad = dict(TREE, **{"app.py": b"VALUE = 1 2\n", "notes.txt": b"changed\n"})
    with pytest.raises(E.CompileError, match="app.py:1"):
        deploy.flash(board.port, files(bad))
    assert snapshot(board.port) == before


def test_a_tree_needing_an_old_compiler_uses_it(board):
    # The device says which .mpy it loads; here it is 6.3 x64, so the current compiler.
    res = deploy.flash(board.port, files({"main.py": b"import m\n", "m.py": b"X = 1\n"}))
    assert any("mpy-cross current (emits v6.3)" in n for n in res.notes)


def test_device_exceptions_arrive_typed_and_a_hung_device_times_out(board):
    repl = transport.Repl(transport.open_port(board.port), board.port)
    try:
        repl.enter()
        with pytest.raises(E.DeviceFileMissing) as ei:
            repl.exec("open('no/such/file')")
        assert ei.value.errno == 2
        with pytest.raises(E.DeviceError) as ei:
            repl.exec("1/0")
        assert ei.value.kind == "ZeroDivisionError"
        assert repl.exec("print('still fine')") == b"still fine\n"
        with pytest.raises(E.DeviceTimeout, match="did not answer within 0.5 s"):
            repl.exec("import time\ntime.sleep(3)", timeout_s=0.5)
    finally:
        repl.close()
    # The next session interrupts what still runs and works again.
    assert run_on(board.port, "print(6*7)").strip() == "42"


# ---- faults injected on the device ------------------------------------------------------------
def inject(port, code):
    run_on(port, "import builtins\n_bo = builtins.open\n" + code)


ZEROS = """
class _Z:
    def __init__(s, f):
        s.f = f
    def write(s, d):
        return s.f.write(bytes(len(d)))
    def close(s):
        s.f.close()
_bad = [%d]
def open(p, m='r'):
    f = _bo(p, m)
    if p == 'notes.txt.tmp' and 'w' in m and _bad[0] > 0:
        _bad[0] -= 1
        return _Z(f)
    return f
"""


def test_a_file_that_arrives_different_is_written_again(board):
    deploy.flash(board.port, files(), reset="never")
    inject(board.port, ZEROS % 1)
    new = dict(TREE, **{"notes.txt": b"second version\n"})
    res = deploy.flash(board.port, files(new), reset="never")  # (the reset is not under test)
    assert res.rewritten == ["notes.txt"]
    assert snapshot(board.port)["notes.txt"] == b"second version\n"


def test_a_file_that_keeps_arriving_different_fails_and_replaces_nothing(board):
    deploy.flash(board.port, files(), reset="never")
    inject(board.port, ZEROS % 99)
    new = dict(TREE, **{"notes.txt": b"second version\n"})
    with pytest.raises(E.TransferCorrupted, match="notes.txt"):
        deploy.flash(board.port, files(new), reset="never")
    snap = snapshot(board.port)
    assert snap["notes.txt"] == TREE["notes.txt"]
    assert not [n for n in snap if n.endswith(".tmp")]


SCRIBBLE = """
def open(p, m='r'):
    if p == 'notes.txt.tmp' and 'w' in m:
        g = _bo('assets/data.bin', 'wb')
        g.write(b'scribbled by a faulty filesystem')
        g.close()
    return _bo(p, m)
"""


def test_files_damaged_behind_the_flashers_back_are_reported_and_fixed_next_run(board):
    deploy.flash(board.port, files(), reset="never")
    inject(board.port, SCRIBBLE)
    new = dict(TREE, **{"notes.txt": b"second version\n"})
    with pytest.raises(E.FilesystemDamaged, match="assets/data.bin"):
        deploy.flash(board.port, files(new), reset="never")
    run_on(board.port, "del open")
    res = deploy.flash(board.port, files(new), reset="never")
    assert res.written == ["assets/data.bin"]
    assert snapshot(board.port)["assets/data.bin"] == TREE["assets/data.bin"]


# ---- the glasses firmware -----------------------------------------------------------------------
@pytest.fixture
def glasses_root(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    (root / "boards" / "testboard").mkdir(parents=True)
    (root / "boards" / "testboard" / "board.py").write_text(
        "NAME = 'testboard'\ndef build(log=None):\n    return None\n")
    os.symlink(os.path.join(build.ROOT, "firmware"), root / "firmware")
    monkeypatch.setattr(build, "ROOT", str(root))
    return root


def test_glasses_firmware_from_the_cli(board, glasses_root, capsys):
    rc = cli.main(["flash", "--port", board.port, "--board", "testboard",
                   "--reset", "never"])
    cap = capsys.readouterr()
    out = " ".join((cap.out + cap.err).split())
    assert rc == 0, out
    version = build.firmware_version()
    assert "glasses firmware %s for testboard" % version in out
    assert "raw-paste" in out and "SHA-256 on the device" in out
    assert re.search(r": 100% \([0-9.]+ of [0-9.]+ kB, [0-9.]+ kB/s\)", out), out  # off a tty
    # The device's own code: the firmware's version, the board, and the manifest parsed
    # by firmware/ota/manifest.py (compiled to .mpy and imported on the device).
    got = run_on(board.port, "import board, firmware.version\n"
                             "from firmware.ota import manifest\n"
                             "f = open('manifest.cbor', 'rb')\n"
                             "m, _, _ = manifest.parse(f.read())\nf.close()\n"
                             "print(firmware.version.VERSION, board.NAME, m[0], m[3], "
                             "len(m[2]))")
    n_files = len(build.firmware_tree("testboard"))
    assert got.split() == [version, "testboard", version, "testboard", str(n_files)]
    main = run_on(board.port, "print(open('main.py').read())")
    assert "bootmain.main()" in main
    # Flashing again from the CLI writes nothing.
    rc = cli.main(["flash", "--port", board.port, "--board", "testboard"])
    assert rc == 0 and "up to date" in capsys.readouterr().out
