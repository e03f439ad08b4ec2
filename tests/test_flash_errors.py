"""`glasses flash` error paths that need no MicroPython board: port missing, port busy,
not MicroPython, compile failure, bad trees; plus the pure pieces (device tracebacks to
typed exceptions, the compiler choice for a device's .mpy version)."""
import os
import subprocess
import sys

import pytest
import serial

from flash_boards import PtyBoard
from host_tools import cli
from host_tools.flash import build, deploy, transport
from host_tools.flash import errors as E



@pytest.fixture(autouse=True)
def _compile_cache(tmp_path_factory, monkeypatch):
    # mpy-cross results are cached by content; keep the tests' cache out of ~/.cache.
    monkeypatch.setenv("GLASSES_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))

def tree(tmp_path, files):
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return str(tmp_path)


@pytest.fixture
def pty_port():
    """A real tty nobody answers on (the test holds its master side)."""
    master, slave = os.openpty()
    path = os.ttyname(slave)
    os.close(slave)
    yield path
    os.close(master)


def test_port_missing_says_to_plug_in_and_pass_the_right_port(tmp_path):
    with pytest.raises(E.PortMissing, match="does not exist: is the board plugged in"):
        deploy.flash(str(tmp_path / "ttyACM9"), [("a.py", b"x = 1\n")])


def test_port_missing_from_the_cli_exits_1_with_the_message(tmp_path, capsys):
    d = tree(tmp_path / "t", {"a.py": "x = 1\n"})
    rc = cli.main(["flash", "--port", str(tmp_path / "ttyUSB7"), d])
    err = capsys.readouterr().err
    assert rc == 1
    assert "ttyUSB7 does not exist" in " ".join(err.split())


def test_port_busy_when_another_process_holds_it(pty_port):
    holder = subprocess.Popen(["sleep", "30"], stdin=open(pty_port, "rb"))
    try:
        with pytest.raises(E.PortBusy) as ei:
            deploy.flash(pty_port, [("a.py", b"x = 1\n")])
        assert "pid %d sleep" % holder.pid in str(ei.value)
        assert "close the other program" in str(ei.value)
    finally:
        holder.kill()
        holder.wait()


def test_port_busy_when_its_lock_is_held(pty_port):
    # pyserial's exclusive open takes a flock; a second exclusive open must fail.
    other = serial.Serial(pty_port, exclusive=True)
    try:
        with pytest.raises(E.PortBusy, match="busy"):
            transport.open_port(pty_port)
    finally:
        other.close()
    transport.open_port(pty_port).close()  # free again


def test_a_path_that_is_not_a_serial_port(tmp_path):
    f = tmp_path / "not-a-tty"
    f.write_bytes(b"")
    with pytest.raises(E.PortError, match="cannot open"):
        transport.open_port(str(f))


def test_a_silent_device_is_not_micropython(pty_port):
    with pytest.raises(E.NotMicroPython, match="nothing answered"):
        deploy.flash(pty_port, [("a.py", b"x = 1\n")], enter_timeout_s=0.5)


def test_cpython_repl_is_not_micropython():
    # A real interactive Python that prints '>>> ' prompts, but has no raw REPL.
    board = PtyBoard([sys.executable, "-i", "-q", "-u"]).start()
    try:
        with pytest.raises(E.NotMicroPython) as ei:
            deploy.flash(board.port, [("a.py", b"x = 1\n")], enter_timeout_s=0.5)
        assert "never showed MicroPython's raw REPL prompt" in str(ei.value)
        assert b">>>" in ei.value.seen
    finally:
        board.stop()


def test_compile_error_names_file_and_line_before_the_port_is_opened(tmp_path, capsys):
    d = tree(tmp_path / "t", {"good.py": "x = 1\n", "pkg/bad.py": "def f(:\n    pass\n"})
    # The port does not exist: the compile error must come first, nothing is touched.
    rc = cli.main(["flash", "--port", str(tmp_path / "nope"), d])
    err = " ".join(capsys.readouterr().err.split())
    assert rc == 1
    assert "pkg/bad.py:1: SyntaxError: invalid syntax (mpy-cross)" in err
    assert "Nothing was written to the device" in err


def test_compile_error_line_number_is_the_failing_line(tmp_path):
    src = b"a = 1\nb = 2\nc = (3,\nd = 4 4\n"
    with pytest.raises(E.CompileError) as ei:
        build.check_syntax([("m.py", src)])
    assert ei.value.path == "m.py" and ei.value.line == "4"


def test_reserved_and_temporary_names_are_refused(tmp_path):
    with pytest.raises(E.TreeError, match="manifest"):
        deploy.flash(str(tmp_path / "p"), [("manifest.cbor", b"")])
    with pytest.raises(E.TreeError, match="temporary"):
        deploy.flash(str(tmp_path / "p"), [("x.py.tmp", b"")])


def test_empty_or_missing_folder(tmp_path):
    with pytest.raises(E.TreeError, match="not a folder"):
        build.folder_tree(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(E.TreeError, match="no files"):
        build.folder_tree(str(tmp_path / "empty"))


def test_unknown_board_lists_the_known_ones(tmp_path):
    (tmp_path / "boards" / "devkit").mkdir(parents=True)
    (tmp_path / "boards" / "devkit" / "board.py").write_text("def build(log=None): pass\n")
    (tmp_path / "firmware").mkdir()
    (tmp_path / "firmware" / "__init__.py").write_text("")
    with pytest.raises(E.BoardNotFound, match="Known boards: devkit"):
        build.firmware_tree("nosuch", root=str(tmp_path))
    files = dict(build.firmware_tree("devkit", root=str(tmp_path)))
    assert sorted(files) == ["board.py", "firmware/__init__.py", "main.py"]
    assert b"bootmain.main()" in files["main.py"]


def test_board_with_a_folder_is_refused(tmp_path, capsys):
    d = tree(tmp_path / "t", {"a.py": "x = 1\n"})
    rc = cli.main(["flash", "--port", "/dev/null", "--board", "x", d])
    assert rc == 1 and "--board is for the glasses firmware" in capsys.readouterr().err


def test_version_comes_from_firmware_version_py():
    assert build.firmware_version() == build.read_version(
        os.path.join(build.ROOT, "firmware", "version.py"))
    assert build.firmware_version().count(".") == 2


# ---- device tracebacks become typed exceptions ------------------------------------------------
@pytest.mark.parametrize("text,cls,errno", [
    ("Traceback (most recent call last):\r\n  File \"<stdin>\", line 1\r\nOSError: 28\r\n",
     E.DeviceError, 28),
    ("OSError: [Errno 28] ENOSPC\r\n", E.DeviceError, 28),
    ("OSError: [Errno 2] ENOENT\r\n", E.DeviceFileMissing, 2),
    ("OSError: file not found\r\n", E.DeviceFileMissing, 2),
    ("MemoryError: memory allocation failed, allocating 3000 bytes\r\n",
     E.DeviceOutOfMemory, None),
    ("ZeroDivisionError: division by zero\r\n", E.DeviceError, None),
])
def test_device_tracebacks_become_typed_exceptions(text, cls, errno):
    exc = transport.device_exception(text)
    assert type(exc) is cls
    assert getattr(exc, "errno", None) == errno


# ---- which compiler for which device ---------------------------------------------------------
def test_compilers_emit_the_documented_mpy_versions():
    got = {c.label: c.version for c in build.compilers()}
    assert got["current"] == (6, 3)
    # The PyPI package's older compilers, where they run here (docs: reference/mpyfiles).
    expect = {"v1.22.0": (6, 2), "v1.20.0": (6, 1), "v1.19": (6, 0), "v1.12": (5, 2)}
    for label, ver in expect.items():
        if label in got:
            assert got[label] == ver


def test_build_for_a_device_without_mpy_support_deploys_sources():
    notes = []
    files = [("a.py", b"x = 1\n"), ("main.py", b"import a\n")]
    assert build.build_for(files, None, notes) == files
    assert "no .mpy support" in notes[0]


def test_build_for_a_v6_3_xtensawin_device_compiles_all_but_main():
    notes = []
    mpy = 6 | (3 << 8) | (10 << 10)  # ESP32-S3: v6.3, xtensawin
    src = b"import micropython\n@micropython.viper\ndef f(x: int) -> int:\n    return x\n"
    out = dict(build.build_for([("a.py", b"x = 1\n"), ("v.py", src), ("main.py", b"1\n")],
                               mpy, notes))
    assert sorted(out) == ["a.mpy", "main.py", "v.mpy"]
    assert out["a.mpy"][:2] == b"M\x06" and out["a.mpy"][2] == 0  # bytecode only
    assert out["v.mpy"][2] >> 2 == 10  # native code for xtensawin
    assert out["main.py"] == b"1\n"


def test_build_for_an_unknown_mpy_version_falls_back_to_sources():
    notes = []
    out = build.build_for([("a.py", b"x = 1\n")], 9, notes)
    assert out == [("a.py", b"x = 1\n")]
    assert "no mpy-cross here emits .mpy v9.0" in notes[0]


def test_compiled_files_are_cached_by_content(monkeypatch):
    c = build.compilers()[0]
    src = b"def f():\n    return 'cached'\n"
    first = build.compile_one(c, "cached_mod.py", src)

    def no_compiler(*a, **k):
        raise AssertionError("mpy-cross ran again for an unchanged file")
    monkeypatch.setattr(build.subprocess, "run", no_compiler)
    assert build.compile_one(c, "cached_mod.py", src) == first
    with pytest.raises(AssertionError, match="ran again"):  # other content: compiled
        build.compile_one(c, "cached_mod.py", src + b"\n# changed\n")
