"""MicroPython's raw REPL over a serial port (pyserial): one exec primitive for everything.

Protocol facts (MicroPython's shared/runtime/pyexec.c; mpremote speaks the same):
- Ctrl-C (0x03) interrupts a running program; in raw-paste mode it aborts the paste
  without running it; in the classic raw REPL it drops the partial line. So two Ctrl-C
  put any device, whatever a previous session left half-sent, back at a prompt.
- Ctrl-A (0x01) enters the raw REPL: the device prints "raw REPL; CTRL-B to exit\\r\\n>".
- Classic raw REPL: send the code, then Ctrl-D (0x04); the device answers "OK", runs it,
  and prints stdout, 0x04, the traceback (if any), 0x04, then ">" for the next command.
- Raw-paste (MicroPython >= 1.13): "\\x05A\\x01" asks for it. "R\\x01" + a 16-bit
  little-endian window size W means yes: the host may send W bytes, and each 0x01 from
  the device grants W more (one 0x01 follows the window size at once, so 2W are free at the
  start). 0x04 from the device means "stop" (it hit a syntax error): answer 0x04. The host
  ends with 0x04 and the device acknowledges with 0x04; then output as in classic mode.
  The code streams into the compiler, so it is never held whole in the device's RAM.
  "R\\x00" means "understood, not supported"; a device older than raw-paste treats the
  bytes as line input, and the trailing 0x01 re-enters the raw REPL (banner again).
- In the friendly REPL (Ctrl-B), Ctrl-D soft-resets and runs boot.py/main.py.
"""
import ast
import os
import sys
import time

import serial

from host_tools.flash import errors as E
from host_tools.flash.errors import device_exception
from host_tools.flash.port import open_port  # noqa: F401  (callers open it as transport.open_port)

BANNER = b"raw REPL; CTRL-B to exit\r\n>"
# Classic raw REPL has no flow control, and small ports drop what does not fit their UART
# ring buffer (the micro:bit's holds 64 bytes and is filled from the RX interrupt). So the
# code goes in bursts of half that, never faster than the baud rate would carry it, and a
# command the device got garbled (a SyntaxError, or no "OK" because the Ctrl-D was lost)
# is sent again: in both cases nothing ran. Content is checked after writing anyway.
#
# The other cause of lost bytes is the device itself: the classic raw REPL collects the
# command in a buffer that grows a few bytes at a time, and each reallocation (with the
# garbage collection it may trigger) can stall the loop that empties the ring buffer.
# warm_up() sends one long comment first, so that buffer is grown once, while losing
# bytes does not matter; commands no longer than that then arrive whole (measured on the
# emulated micro:bit: 5 of 32 commands of 500-900 bytes garbled without it, 0 with it).
#
# Neither is enough on an emulated board, where the UART has no baud rate and a stalled
# emulator thread delivers the backlog in one burst. So, in classic mode, every command
# is sent as _x('<code>', <length>): a function defined on the device that runs the code
# only if it arrived with every character (bytes lost in the REPL's ring buffer are lost,
# never changed, so the length tells), and otherwise raises ValueError('garbled'); file
# data goes as _w(b'<data>', <length>) (devfs). Garbled commands never run, and are sent
# again, and the pace is halved for the rest of the session (down to 1/8 of the baud rate).
GUARD = ("def _x(c,n):\n if len(c)!=n:\n  raise ValueError('garbled')\n"
         " exec(c,globals())\n")
CLASSIC_BURST = 32
CLASSIC_RETRIES = 4
SLOWEST = 8  # classic pace: at most 8 times slower than the baud rate
OK_TIMEOUT_S = 2.0


class Repl:
    """The raw REPL of one device. Every file operation is built on exec()."""

    def __init__(self, ser, port="", use_raw_paste=True, timeout_s=10.0):
        self.ser = ser
        self.port = port or getattr(ser, "port", "")
        self.timeout_s = timeout_s
        self.raw_paste = None if use_raw_paste else False  # None: not asked yet
        self.sent_bytes = 0
        self.resent = 0  # classic-mode commands sent again after the device garbled them
        self.guarded = False  # classic mode: _x() is defined on the device
        self.windows = 0  # raw-paste flow-control grants received (0x01)
        baud = getattr(ser, "baudrate", 115200) or 115200
        self.byte_s = self.wire_byte_s = 10.0 / baud  # start bit, 8 data bits, stop bit
        self._rx = b""

    # ---- bytes ---------------------------------------------------------------------------
    def _write(self, data):
        try:
            self.ser.write(data)
        except (serial.SerialException, OSError, TypeError, AttributeError) as e:
            raise E.TransferInterrupted("writing to %s: %s" % (self.port, e)) from e
        self.sent_bytes += len(data)

    def _fill(self):
        try:
            n = self.ser.in_waiting
            data = self.ser.read(n if n else 1)
        except (serial.SerialException, OSError, TypeError, AttributeError) as e:
            raise E.TransferInterrupted("reading from %s: %s" % (self.port, e)) from e
        self._rx += data
        return len(data)

    def read_until(self, ending, timeout_s, what="", fail=True):
        deadline = time.monotonic() + timeout_s
        while True:
            i = self._rx.find(ending)
            if i >= 0:
                out = self._rx[:i + len(ending)]
                self._rx = self._rx[i + len(ending):]
                return out
            if time.monotonic() > deadline:
                if fail:
                    raise E.DeviceTimeout(what or "waiting for %r" % ending, timeout_s)
                out, self._rx = self._rx, b""
                return out
            self._fill()

    def read_exact(self, n, timeout_s, what):
        deadline = time.monotonic() + timeout_s
        while len(self._rx) < n:
            if time.monotonic() > deadline:
                raise E.DeviceTimeout(what, timeout_s)
            self._fill()
        out, self._rx = self._rx[:n], self._rx[n:]
        return out

    def drain(self, quiet_s=0.05, limit_s=1.0):
        """Read and return whatever arrives until the line is quiet for quiet_s."""
        end = time.monotonic() + limit_s
        last = time.monotonic()
        while time.monotonic() < end and time.monotonic() - last < quiet_s:
            if self._fill():
                last = time.monotonic()
        out, self._rx = self._rx, b""
        return out

    # ---- entering the raw REPL -------------------------------------------------------------
    def enter(self, timeout_s=2.0, tries=2):
        seen = b""
        for _ in range(tries):
            self._write(b"\r\x03\x03")
            seen += self.drain(quiet_s=0.05, limit_s=0.5)
            self._write(b"\r\x01")
            got = self.read_until(BANNER, timeout_s, fail=False)
            seen += got
            if got.endswith(BANNER):
                self.drain(quiet_s=0.02, limit_s=0.2)  # a second banner, if any
                return
        raise E.NotMicroPython(self.port, seen.replace(b"\x00", b""))

    # ---- the exec primitive ----------------------------------------------------------------
    def exec(self, code, timeout_s=None, guard=True):
        """Run code on the device; return its stdout (bytes). A device traceback becomes
        a typed exception (errors.DeviceError and subclasses). guard=False: the code
        checks its own integrity (or is a single short burst)."""
        if isinstance(code, bytes):
            code = code.decode("utf-8")
        if guard and self.guarded:
            code = "_x(%r,%d)" % (code, len(code))
        data = code.encode("utf-8")
        timeout_s = timeout_s or self.timeout_s
        tries = 0
        while True:
            if self.raw_paste is not False and self._paste(data, timeout_s):
                classic = False
            else:
                classic = True
                if not self._classic(data):
                    tries += 1
                    if tries > CLASSIC_RETRIES:
                        raise E.DeviceTimeout("waiting for OK after a command", OK_TIMEOUT_S)
                    continue
            out = self.read_until(b"\x04", timeout_s, "running a command")[:-1]
            err = self.read_until(b"\x04", timeout_s, "reading a traceback")[:-1]
            self.read_until(b">", timeout_s, "waiting for the raw REPL prompt")
            if not err:
                return out
            exc = device_exception(err.decode("utf-8", "replace"))
            garbled = exc.kind == "SyntaxError" or (
                exc.kind == "ValueError" and exc.device_message == "garbled")
            if classic and garbled and tries < CLASSIC_RETRIES:
                tries += 1
                self._slow_down()
                continue
            if os.environ.get("GLASSES_FLASH_DEBUG"):
                sys.stderr.write("flash: %r raised %r\n" % (code[:200], err))
            raise exc

    def install_guard(self):
        """Classic mode: define _x() on the device and prove that it works."""
        for _ in range(CLASSIC_RETRIES + 1):
            try:
                self.exec(GUARD, guard=False)
                self.guarded = True
                if self.exec("print(7*6)").strip() == b"42":
                    return
            except E.DeviceError:
                pass
            self.guarded = False
        raise E.DeviceTimeout("setting up the classic raw REPL (commands kept arriving "
                              "garbled)", self.timeout_s)

    def warm_up(self, nbytes):
        """Classic raw REPL: make the device grow its command buffer to nbytes once (a
        comment: bytes lost on the way do not matter, a lost Ctrl-D is sent again)."""
        self.drain(quiet_s=0.01, limit_s=0.1)
        for _ in range(CLASSIC_RETRIES + 1):
            if self._classic(b"#" * nbytes):
                self.read_until(b"\x04\x04>", self.timeout_s, "growing the command buffer")
                return
        raise E.DeviceTimeout("waiting for OK after a command", OK_TIMEOUT_S)

    def eval(self, expr, timeout_s=None):
        out = self.exec("print(repr(%s))" % expr, timeout_s)
        return ast.literal_eval(out.decode("utf-8").strip())

    def eval_lines(self, code, timeout_s=None):
        """Run code that prints one Python literal per line; return them parsed."""
        out = self.exec(code, timeout_s).decode("utf-8")
        return [ast.literal_eval(ln) for ln in out.splitlines() if ln.strip()]

    def alive(self):
        return bool(getattr(self.ser, "is_open", False))

    def _slow_down(self):
        self.resent += 1
        self.byte_s = min(self.byte_s * 2, self.wire_byte_s * SLOWEST)

    def _classic(self, code):
        """Send code in classic raw REPL mode, paced; False if no OK came back (the
        line is then cleared with Ctrl-C, and nothing ran)."""
        start = time.monotonic()
        for i in range(0, len(code), CLASSIC_BURST):
            ahead = start + i * self.byte_s - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
            self._write(code[i:i + CLASSIC_BURST])
        self._write(b"\x04")
        deadline = time.monotonic() + OK_TIMEOUT_S
        while len(self._rx) < 2 and time.monotonic() < deadline:
            self._fill()
        if self._rx[:2] == b"OK":
            self._rx = self._rx[2:]
            return True
        self._slow_down()
        self._write(b"\x03")  # clear the partial line
        self.drain(quiet_s=0.05, limit_s=0.5)
        return False

    def _paste(self, code, timeout_s):
        """Send code in raw-paste mode; False if the device does not support it."""
        if self.raw_paste is None:
            self._write(b"\x05A\x01")
            head = self.read_exact(2, timeout_s, "asking for raw-paste mode")
            if head == b"R\x01":
                self.raw_paste = True
            else:
                self.raw_paste = False
                if head != b"R\x00":  # an old device: the 0x01 re-entered the raw REPL
                    self._rx = head + self._rx
                    self.read_until(BANNER, timeout_s, "re-entering the raw REPL")
                return False
        else:
            self._write(b"\x05A\x01")
            if self.read_exact(2, timeout_s, "entering raw-paste mode") != b"R\x01":
                raise E.DeviceTimeout("the device refused raw-paste mode", timeout_s)
        window = int.from_bytes(self.read_exact(2, timeout_s, "reading the paste window"),
                                "little")
        remain = window
        i = 0
        deadline = time.monotonic() + timeout_s
        while i < len(code):
            while remain == 0 or self._rx or self.ser.in_waiting:
                if not self._rx:
                    if time.monotonic() > deadline:
                        raise E.DeviceTimeout("waiting for flow control", timeout_s)
                    self._fill()
                    continue
                c, self._rx = self._rx[:1], self._rx[1:]
                if c == b"\x01":
                    remain += window
                    self.windows += 1
                    deadline = time.monotonic() + timeout_s
                elif c == b"\x04":  # the device stopped early (a syntax error)
                    self._write(b"\x04")
                    return True
                else:
                    raise E.DeviceTimeout("unexpected %r during raw paste" % c, timeout_s)
            n = min(remain, len(code) - i)
            self._write(code[i:i + n])
            remain -= n
            i += n
        self._write(b"\x04")
        self.read_until(b"\x04", timeout_s, "waiting for the end of raw paste")
        return True

    # ---- reset -----------------------------------------------------------------------------
    def soft_reset_raw(self):
        """Soft-reset from the raw REPL (a clean heap; main.py does not run on MCU ports)
        and enter the raw REPL again."""
        self._write(b"\x04")
        self.raw_paste = None if self.raw_paste is not False else False
        self.guarded = False
        got = self.read_until(BANNER, 2.0, fail=False)
        if not (got.endswith(BANNER) and b"soft reboot" in got):
            self.enter()  # not back in the raw REPL by itself (the unix port restarts)

    def soft_reset(self, boot_s=3.0):
        """Soft-reset from the friendly REPL so boot.py/main.py run; return the boot log:
        what the device printed until the prompt after its reset banner, or boot_s
        seconds (a main.py that runs forever never gives the prompt back)."""
        self._write(b"\r\x02")  # friendly REPL
        self.read_until(b">>> ", 5.0, fail=False)
        self.drain(quiet_s=0.05, limit_s=0.3)
        self._write(b"\x04")
        deadline = time.monotonic() + boot_s
        log = b""
        while time.monotonic() < deadline:
            self._fill()
            log += self._rx
            self._rx = b""
            # MCU ports print "soft reboot"; a restarted unix port prints its banner.
            if (b"soft reboot" in log or b"MicroPython " in log) and \
                    log.rstrip().endswith(b">>>"):
                break
        return log.decode("utf-8", "replace")

    def close(self):
        try:
            self.ser.close()
        except Exception:  # closing a port that vanished: nothing left to do
            pass
