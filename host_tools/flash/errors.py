"""Errors of `glasses flash`: one base class, one subclass per thing that can go wrong,
each message saying what happened and what to do about it; device_exception() turns a
traceback the device printed into one of them."""
import errno as _errno
import re

_ERRNO_RE = re.compile(r"(?:\[Errno (\d+)\]|^(\d+)$|^\((\d+),?)")


class FlashError(Exception):
    """Base of every flashing error; the CLI prints its message and exits 1."""


class PortMissing(FlashError):
    def __init__(self, port):
        super().__init__(
            "serial port %s does not exist: is the board plugged in? "
            "(Linux: ls /dev/ttyACM* /dev/ttyUSB*; pass the right one with --port)" % port)
        self.port = port


class PortBusy(FlashError):
    def __init__(self, port, holder=""):
        who = " (held by %s)" % holder if holder else ""
        super().__init__(
            "serial port %s is busy%s: close the other program using it (a serial "
            "monitor, mpremote, another glasses flash) and try again" % (port, who))
        self.port = port
        self.holder = holder


class PortError(FlashError):
    """The port exists and is free but cannot be opened (permissions, not a tty)."""


class NotMicroPython(FlashError):
    def __init__(self, port, seen):
        if seen:
            what = "it answered %r but never showed MicroPython's raw REPL prompt" % (
                seen[-120:],)
        else:
            what = "nothing answered"
        super().__init__(
            "the device on %s does not look like MicroPython: %s. Check that MicroPython "
            "is installed on the board (flash it with esptool / the UF2 bootloader first), "
            "that no program holds the REPL, and that this is the board's REPL port"
            % (port, what))
        self.seen = seen


class TransferInterrupted(FlashError):
    def __init__(self, detail):
        super().__init__(
            "the connection to the device was lost (%s). Nothing half-written sits under a "
            "real file name; run the same command again: files already on the device and "
            "matching are skipped" % detail)


class TransferCorrupted(FlashError):
    def __init__(self, paths, tries):
        super().__init__(
            "the device kept receiving different bytes than were sent for %s (checked after "
            "%d tries); nothing was replaced. Use a shorter or better USB cable, a lower "
            "--baud, or --no-raw-paste if the board's raw-paste mode is unreliable"
            % (", ".join(paths), tries))
        self.paths = paths


class FilesystemDamaged(FlashError):
    def __init__(self, paths):
        super().__init__(
            "after flashing, %s no longer match%s what was written or checked: the device's "
            "filesystem changed them (the micro:bit's does when it reorganises itself while "
            "nearly full). The manifest was not updated; run the same command again to "
            "rewrite them, and keep more of the filesystem free"
            % (", ".join(paths), "es" if len(paths) == 1 else ""))
        self.paths = paths


class DeviceTimeout(FlashError):
    def __init__(self, what, seconds):
        super().__init__(
            "the device did not answer within %g s while %s: it may be busy or hung; "
            "press reset (or unplug it) and run the command again" % (seconds, what))


class DeviceError(FlashError):
    """A Python exception raised on the device; `kind` is its type name there."""

    def __init__(self, kind, message, traceback=""):
        super().__init__("the device raised %s: %s" % (kind, message))
        self.kind = kind
        self.device_message = message
        self.traceback = traceback


class DeviceOutOfMemory(DeviceError):
    pass


class DeviceFileMissing(DeviceError):
    pass


class DeviceFull(FlashError):
    def __init__(self, detail):
        super().__init__(
            "the device's filesystem is full: %s. Nothing was replaced: the files that were "
            "on the device before are intact. Free space on the device (remove files you do "
            "not need) or flash a smaller tree" % detail)


class CompileError(FlashError):
    def __init__(self, path, line, message):
        at = "%s:%s" % (path, line) if line else path
        super().__init__("%s: %s (mpy-cross). Nothing was written to the device; fix the "
                         "file and flash again" % (at, message))
        self.path = path
        self.line = line


class TreeError(FlashError):
    """The folder to flash cannot be deployed as it is (empty, bad names, reserved name)."""


class NeedsDirectories(FlashError):
    def __init__(self, paths):
        shown = ", ".join(paths[:4]) + (" ..." if len(paths) > 4 else "")
        super().__init__(
            "this tree needs folders (%s) but the device's filesystem is flat (its os "
            "module has no mkdir): nothing was written. Flatten the tree (files at the top "
            "level only) for this board" % shown)
        self.paths = paths


class BoardNotFound(FlashError):
    def __init__(self, name, known):
        super().__init__("unknown board %r: no boards/%s/board.py. Known boards: %s"
                         % (name, name, ", ".join(known) or "(none)"))


def device_exception(stderr_text):
    """A typed host exception for a device traceback."""
    lines = [ln.strip() for ln in stderr_text.strip().splitlines() if ln.strip()]
    last = lines[-1] if lines else "unknown error"
    kind, _, message = last.partition(":")
    kind = kind.strip()
    message = message.strip()
    if kind == "MemoryError":
        return DeviceOutOfMemory(kind, message or "out of memory", stderr_text)
    err = None
    if kind == "OSError":
        m = _ERRNO_RE.search(message)
        if m:
            err = int(next(g for g in m.groups() if g))
        elif "ENOSPC" in message:
            err = _errno.ENOSPC
        elif "ENOENT" in message or "not found" in message:
            err = _errno.ENOENT
    cls = DeviceFileMissing if err == _errno.ENOENT else DeviceError
    exc = cls(kind, message, stderr_text)
    exc.errno = err
    return exc


class RomfsUnsupported(FlashError):
    """--romfs on a MicroPython without ROMFS (no vfs.rom_ioctl), or without a segment."""

    def __init__(self, device, no_segment=False):
        if no_segment:
            what = ("has vfs.rom_ioctl but no ROM segment: its build has MICROPY_VFS_ROM "
                    "without a place for the image (esp32: a partition labelled 'romfs' in "
                    "the partition table; rp2: MICROPY_HW_ROMFS_BYTES > 0)")
        else:
            what = ("has no ROMFS (no vfs.rom_ioctl): --romfs needs MicroPython 1.25 or "
                    "later built with MICROPY_VFS_ROM and a ROM segment, which the stock "
                    "ESP32 and Pico 2 W builds do not enable")
        super().__init__(
            "the device (%s) %s. Flash without --romfs (the .mpy files go to the "
            "filesystem), or build MicroPython with the firmware frozen in "
            "(boards/<name>/manifest.py; boards/README.md says how)" % (device, what))
        self.no_segment = no_segment


class RomfsTooBig(FlashError):
    def __init__(self, image_bytes, segment_bytes):
        super().__init__(
            "the ROMFS image is %d bytes but the device's ROM segment holds %d: make the "
            "segment larger (the 'romfs' partition, MICROPY_HW_ROMFS_BYTES) or flash "
            "without --romfs" % (image_bytes, segment_bytes))
        self.image_bytes = image_bytes
        self.segment_bytes = segment_bytes


class HeapTooSmall(FlashError):
    """The board's heap_bytes cannot hold the firmware it would run (flash/budget.py)."""

    def __init__(self, board, heap, total, code, per, cfg, where):
        data = sorted(((n, f) for f, n in per.items()), reverse=True)
        parts = ", ".join("%s %d KB" % (f, n // 1024) for n, f in data)
        shrink = []
        if "voice" in per:
            shrink.append("voice_offline_bytes (%d), voice_ring_frames (%d frames of 640 "
                          "bytes), voice_jitter_slots (%d) x voice_jitter_packet_bytes (%d)"
                          % (cfg["voice_offline_bytes"], cfg["voice_ring_frames"],
                             cfg["voice_jitter_slots"], cfg["voice_jitter_packet_bytes"]))
        shrink.append("log_records (%d)" % cfg.get("log_records", 0))
        keep = ("keep the code out of the heap: --romfs on a MicroPython built with "
                "MICROPY_VFS_ROM, or a frozen build (boards/%s/manifest.py, then --frozen)"
                % board) if where == "mpy" else "leave out a feature the board has parts for"
        super().__init__(
            "board %s: heap_bytes %d (%d KB) is too small for what it runs: about %d KB "
            "(the code %d KB; data %s), more than %d%% of the heap. Shrink in the board's "
            "DATA['config']: %s; or %s" % (
                board, heap, heap // 1024, total // 1024, code // 1024, parts, 90,
                "; ".join(shrink), keep))
        self.board = board
        self.heap = heap
        self.total = total
