"""`glasses flash --romfs`: the firmware's .mpy files as one ROMFS image (romfs.py) in the
device's ROM segment, written through `vfs.rom_ioctl` (MicroPython 1.25+ built with
MICROPY_VFS_ROM); main.py stays on the filesystem. At the next boot the port mounts the
segment at /rom and puts /rom on sys.path, so the firmware imports in place from flash.

vfs.rom_ioctl (MicroPython extmod/vfs.h; boards/README.md cites it): (1) the number of
segments; (2, id) segment id: a memoryview of memory-mapped flash (stm32, alif, mimxrt) or
a block device with .ioctl / .writeblocks (esp32.Partition, rp2.Flash); for a memoryview,
(3, id, nbytes) erases and returns the write granularity, (4, id, offset, buf) writes,
(5, id) completes. A block device is erased block by block (ioctl 6) and written with
writeblocks. The image is then read back and compared by SHA-256 on the device.
"""
import hashlib

from host_tools.flash import devfs
from host_tools.flash import errors as E

# Binds _RI (None without ROMFS) and says how many segments there are.
PROBE = """try:
 import vfs
 _RI=getattr(vfs,'rom_ioctl',None)
except ImportError:
 _RI=None
print(repr(-1 if _RI is None else _RI(1)))
"""
SEGMENT = """_S=_RI(2,0)
try:
 _SZ=len(_S);_BD=0
except TypeError:
 _BD=_S.ioctl(5,0);_SZ=_S.ioctl(4,0)*_BD
try:
 vfs.umount('/rom')
except OSError:
 pass
print(repr((_SZ,_BD)))
"""
HELPERS = """def _rp(n):
 if _BD:
  for b in range((n+_BD-1)//_BD):
   _S.ioctl(6,b)
  return _BD
 g=_RI(3,0,n)
 if g<0:
  raise OSError(-g)
 return g
def _rw(o,d):
 if _BD:
  _S.writeblocks(o//_BD,d)
 else:
  r=_RI(4,0,o,d)
  if r is not None and r<0:
   raise OSError(-r)
def _rh(n):
 import hashlib
 h=hashlib.sha256();k=_BD or 512;b=bytearray(k);o=0
 while o<n:
  m=min(k,n-o)
  if _BD:
   _S.readblocks(o//_BD,b)
   h.update(b[:m])
  else:
   h.update(_S[o:o+m])
  o+=m
 print(repr(h.digest()))
"""
CHUNK = 2048  # image bytes per command at the most (a multiple of every block size)


def deploy(dev, image, rep):
    """Write `image` to ROM segment 0 of the device; returns a line for the output."""
    repl = dev.repl
    segments = repl.eval_lines(PROBE)[-1]
    if segments < 0:
        raise E.RomfsUnsupported(dev.info.describe())
    if segments == 0:
        raise E.RomfsUnsupported(dev.info.describe(), no_segment=True)
    size, block = repl.eval_lines(SEGMENT)[-1]
    if len(image) > size:
        raise E.RomfsTooBig(len(image), size)
    repl.exec(HELPERS)
    gran = repl.eval_lines("print(repr(_rp(%d)))" % len(image))[-1] or 1
    unit = block or gran
    step = max(unit, (min(CHUNK, dev.cmd_max // 2) // unit) * unit)
    b64 = dev.info.binascii
    if b64:
        repl.exec("import binascii\n_a=binascii.a2b_base64")
    rep.start(len(image))
    try:
        for off in range(0, len(image), step):
            part = image[off:off + step]
            if len(part) % unit:  # the last piece, padded to what the flash writes
                part += b"\xff" * (unit - len(part) % unit)
            repl.exec("_rw(%d,%s)" % (off, devfs.literal(part, b64)))
            rep.advance(min(step, len(image) - off), "ROMFS image")
    finally:
        rep.stop()
    if not block:
        repl.exec("_RI(5,0)")
    if dev.info.hashlib:
        got = repl.eval_lines("_rh(%d)" % len(image))[-1]
        if got != hashlib.sha256(image).digest():
            raise E.TransferCorrupted(["ROMFS image"], 1)
    return ("ROMFS image: %d bytes in a %d-byte segment (%s), checked by SHA-256" % (
        len(image), size, "block device" if block else "memory-mapped") +
        ("" if dev.info.hashlib else " (no hashlib on the device: not read back)"))
