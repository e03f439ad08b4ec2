"""`glasses flash --romfs` and the ROMFS image (host_tools/flash/romfs.py, romdeploy.py).

The image format is checked byte for byte and mounted by real MicroPython (the unix
port's vfs.VfsRom imports a module from it in place). The deploy is refused, naming the
build option, by real MicroPython REPLs without ROMFS (the unix port: VfsRom but no
vfs.rom_ioctl; the micro:bit: no vfs at all), and nothing is written. Writing the image
runs against the unix port with the ROM segment itself as the double, below the HAL
line: a RAM segment answering vfs.rom_ioctl's calls as a memory-mapped port does, and one
that is a block device (as esp32.Partition and rp2.Flash are); the written segment is
then mounted with vfs.VfsRom and the module imported from it."""
import os
import subprocess
import sys

import pytest

from flash_boards import Microbit, UnixBoard, run_on, snapshot
from host_tools.flash import build, deploy, romdeploy
from host_tools.flash import errors as E
from host_tools.flash import romfs as R

MP = os.path.join(os.path.dirname(sys.executable), "micropython")
TREE = [("main.py", b"import app\nprint('booted', app.WHERE)\n"),
        ("app.py", b"import sys\nWHERE = __file__\nprint('app from', WHERE)\n"),
        ("lib/util.py", b"def twice(x):\n    return 2 * x\n"),
        ("data/words.txt", b"hello rom\n")]


@pytest.fixture(autouse=True)
def _compile_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("GLASSES_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def test_varuints_records_and_the_header_are_the_format_s():
    assert R.varuint(0) == b"\x00" and R.varuint(127) == b"\x7f"
    assert R.varuint(128) == b"\x81\x00" and R.varuint(0x3FFF) == b"\xff\x7f"
    assert R.varuint(R.FILESYSTEM) == b"\xd2\xcd\x31" == R.HEADER  # "RM1", high bits set
    img = R.build_image([("a.mpy", b"xy")])
    # filesystem(len) [ file(len) [ name_len "a.mpy" data(2) "xy" ] ], padded to even
    body = R.record(R.FILE, b"\x05a.mpy" + R.record(R.DATA, b"xy"))
    assert img == R.record(R.FILESYSTEM, body) or img == R.record(R.FILESYSTEM, body, pad=1)
    assert len(img) % 2 == 0


def test_an_image_reads_back_whole_and_odd_sizes_are_padded():
    files = [("firmware/a.mpy", b"A" * 300), ("firmware/sub/b.mpy", b""), ("board.mpy", b"B")]
    for extra in (b"", b"x"):
        img = R.build_image(files + [("z", extra)])
        assert len(img) % 2 == 0
        assert R.read_image(img) == dict(files + [("z", extra)])
    with pytest.raises(E.TreeError, match="twice"):
        R.build_image([("a", b""), ("a", b"")])
    with pytest.raises(E.TreeError, match="not a ROMFS image"):
        R.read_image(b"MPY!" + bytes(10))
    assert R.rom_files([("main.py", b""), ("boot.py", b""), ("x.mpy", b"")]) == \
        [("x.mpy", b"")]


def test_micropython_mounts_the_image_and_imports_from_it_in_place(tmp_path):
    out = subprocess.run([MP, "-c", "import sys; print(sys.implementation._mpy)"],
                         capture_output=True, text=True, timeout=30)
    files = build.build_for(TREE, int(out.stdout), [])
    img = R.build_image(R.rom_files(files))
    (tmp_path / "fw.romfs").write_bytes(img)
    code = ("import vfs, sys\nimg = open(%r, 'rb').read()\n"
            "vfs.mount(vfs.VfsRom(img), '/rom')\nsys.path.insert(0, '/rom')\n"
            "import app\nfrom lib import util\nprint(util.twice(21))\n"
            "print(open('/rom/data/words.txt').read().strip())\n"
            "try:\n    open('/rom/new', 'w')\nexcept OSError as e:\n    print('EROFS', e.errno)\n"
            % str(tmp_path / "fw.romfs"))
    r = subprocess.run([MP, "-c", code], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:4] == ["app from /rom/app.mpy", "42", "hello rom",
                                        "EROFS 30"], r.stdout


@pytest.fixture
def unix_board(tmp_path):
    b = UnixBoard(blocks=1024, workdir=str(tmp_path / "board")).start()
    yield b
    b.stop()


def test_a_device_without_romfs_is_refused_naming_the_build_option(unix_board):
    before = snapshot(unix_board.port)
    with pytest.raises(E.RomfsUnsupported) as e:
        deploy.flash(unix_board.port, TREE, romfs=True, reset="never")
    msg = str(e.value)
    assert "MICROPY_VFS_ROM" in msg and "no vfs.rom_ioctl" in msg and "without --romfs" in msg
    assert snapshot(unix_board.port) == before  # nothing written


def test_a_micro_bit_is_refused_too():
    mb = Microbit().start()
    try:
        with pytest.raises(E.RomfsUnsupported, match="MICROPY_VFS_ROM"):
            deploy.flash(mb.port, [("main.py", b"print(1)\n")], romfs=True, reset="never")
    finally:
        mb.stop()


# The ROM segment, below the HAL line: what vfs.rom_ioctl answers on a port that has it.
SEGMENT_DOUBLE = """
class _Seg:
    def __init__(self, n, blocks):
        self.buf = bytearray(b'\\x00' * n)
        self.blocks = blocks
        self.erased = 0
    def ioctl(self, op, arg):
        if op == 4: return len(self.buf) // 4096
        if op == 5: return 4096
        if op == 6:
            self.buf[arg * 4096:(arg + 1) * 4096] = b'\\xff' * 4096
            self.erased += 1
            return 0
    def readblocks(self, n, b):
        b[:] = self.buf[n * 4096:n * 4096 + len(b)]
    def writeblocks(self, n, b):
        self.buf[n * 4096:n * 4096 + len(b)] = b
_SEG = _Seg(%d, %r)
def _ri_double(op, *a):
    if op == 1: return 1
    if op == 2: return _SEG if _SEG.blocks else memoryview(_SEG.buf)
    if op == 3:
        _SEG.buf[:a[1]] = b'\\xff' * a[1]
        return 16
    if op == 4:
        _SEG.buf[a[1]:a[1] + len(a[2])] = a[2]
        return 0
    if op == 5: return 0
"""
PROBE_DOUBLE = "_RI=_ri_double\nprint(repr(_RI(1)))\n"


@pytest.mark.parametrize("blocks", (False, True), ids=("memory-mapped", "block-device"))
def test_the_image_is_written_checked_and_mounts(unix_board, monkeypatch, blocks):
    run_on(unix_board.port, SEGMENT_DOUBLE % (64 * 1024, blocks))
    monkeypatch.setattr(romdeploy, "PROBE", PROBE_DOUBLE)
    res = deploy.flash(unix_board.port, TREE, romfs=True, reset="never")
    assert res.rom_bytes > 0 and any("checked by SHA-256" in n for n in res.notes), res.notes
    assert set(snapshot(unix_board.port)) == {"main.py", "manifest.cbor"}  # the rest: ROM
    out = run_on(unix_board.port, "import vfs, sys\n"
                 "vfs.mount(vfs.VfsRom(memoryview(_SEG.buf)), '/rom')\n"
                 "sys.path.insert(0, '/rom')\nfrom lib import util\nprint(util.twice(4))\n"
                 "print(sorted(vfs.VfsRom(memoryview(_SEG.buf)).ilistdir('/')))\n")
    assert out.splitlines()[0] == "8", out
    assert "'app.mpy'" in out and "'lib'" in out and "main.py" not in out


def test_an_image_larger_than_the_segment_is_refused_before_writing(unix_board, monkeypatch):
    run_on(unix_board.port, SEGMENT_DOUBLE % (64, False))
    monkeypatch.setattr(romdeploy, "PROBE", PROBE_DOUBLE)
    with pytest.raises(E.RomfsTooBig, match="holds 64"):
        deploy.flash(unix_board.port, TREE, romfs=True, reset="never")
    assert run_on(unix_board.port, "print(bytes(_SEG.buf[:4]))").strip() == \
        "b'\\x00\\x00\\x00\\x00'"


def test_frozen_flashes_only_main_py_and_clears_what_a_full_flash_left(unix_board, capsys):
    from host_tools import cli
    assert cli.main(["flash", "--port", unix_board.port, "--board", "pico2w_dev",
                     "--reset", "never"]) == 0
    assert "firmware/app.mpy" in snapshot(unix_board.port)
    assert cli.main(["flash", "--port", unix_board.port, "--board", "pico2w_dev",
                     "--reset", "never", "--frozen"]) == 0
    assert set(snapshot(unix_board.port)) == {"main.py", "manifest.cbor"}
    # --romfs from the command line: the refusal is the message, exit 1
    capsys.readouterr()
    assert cli.main(["flash", "--port", unix_board.port, "--board", "pico2w_dev",
                     "--romfs", "--reset", "never"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "flash failed:" in err and "MICROPY_VFS_ROM" in err, err


def test_frozen_is_for_the_glasses_firmware_and_varuints_are_never_negative(tmp_path, capsys):
    from host_tools import cli
    (tmp_path / "main.py").write_text("print(1)\n")
    assert cli.main(["flash", "--port", "/dev/no-such-port", str(tmp_path), "--frozen"]) == 1
    assert "--frozen is for the glasses firmware" in capsys.readouterr().err
    with pytest.raises(ValueError):
        R.varuint(-1)


def test_an_image_that_reads_back_different_is_reported(unix_board, monkeypatch):
    run_on(unix_board.port, SEGMENT_DOUBLE % (64 * 1024, False) +
           "_w = _ri_double\n"
           "def _ri_double(op, *a):\n"
           "    if op == 4:\n"
           "        a = (a[0], a[1], bytes([a[2][0] ^ 1]) + a[2][1:])  # the flash flips a bit\n"
           "    return _w(op, *a)\n")
    monkeypatch.setattr(romdeploy, "PROBE", PROBE_DOUBLE)
    with pytest.raises(E.TransferCorrupted, match="ROMFS image"):
        deploy.flash(unix_board.port, TREE, romfs=True, reset="never")
    assert "main.py" not in snapshot(unix_board.port)  # nothing else was written
