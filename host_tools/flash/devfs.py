"""File operations on a MicroPython device, all through Repl.exec().

What the device can do is probed once (`probe()`), and small helper functions are defined
in the device's REPL globals for the session; each operation is then one short exec.
Every helper is written for the oldest ports too (MicroPython 1.9: no f-strings, no
str.encode, `os` with only listdir/remove/size on the micro:bit).

Content check: SHA-256 where the device has `hashlib`; otherwise the size and an Adler-32
checksum computed on the device in Python (the host computes the same with zlib.adler32).
"""
import binascii
import errno
import hashlib
import zlib

from host_tools.flash import errors as E

TMP = ".tmp"  # a file is written as NAME.tmp, then moved into place
RESERVE = "reserve.tmp"

# First command of a session: free RAM, and whether a session cut off mid-file left a file
# open (then the device is soft-reset first: a clean heap, the stale handle gone).
MEM = """try:
 import gc;gc.collect();print((gc.mem_free(),globals().get('_F') is not None))
except Exception:
 print((-1,globals().get('_F') is not None))
"""

PROBE = """import sys
try:
 import os
except ImportError:
 import uos as os
try:
 import gc;gc.collect();_m=gc.mem_free()
except Exception:
 _m=-1
try:
 import hashlib;_h=hasattr(hashlib,'sha256')
except ImportError:
 _h=False
try:
 import binascii;_b=hasattr(binascii,'a2b_base64')
except ImportError:
 _b=False
_i=sys.implementation
_cw='';_fr=-1;_bs=0
try:
 _cw=os.getcwd()
except Exception:
 pass
try:
 _s=os.statvfs(_cw or '/');_fr=_s[1]*_s[4];_bs=_s[0]
except Exception:
 pass
print(repr((_i.name,tuple(_i.version)[:3],getattr(_i,'_mpy',getattr(_i,'mpy',None)),\
sys.platform,[n for n in ('stat','rename','mkdir','rmdir','statvfs','size','getcwd')\
 if hasattr(os,n)],_h,_b,_m,_cw,_fr,_bs)))
"""

# Defined once per session. _F is the one file being written; a session that was cut
# off may have left it open, so it is closed first.
HELPERS = """try:
 _F.close()
except Exception:
 pass
_F=None
"""

HELPERS_HASH = """def _fq(p):
 try:
  f=open(p,'rb')
 except OSError:
  return None
 n=0
 if _H:
  h=_H.sha256()
 else:
  a=1;b=0
 while 1:
  d=f.read(512)
  if not d:
   break
  n+=len(d)
  if _H:
   h.update(d)
  else:
   for c in d:
    a+=c;b+=a
   a%=65521;b%=65521
 f.close()
 if _H:
  return (n,h.digest())
 return (n,a,b)
def _q(*ps):
 for p in ps:
  print(repr((_fq(p),_fq(p+'.tmp'))))
"""

HELPERS_WRITE = """def _o(p):
 global _F
 _F=open(p,'wb')
def _w(d,n):
 if len(d)!=n:
  raise ValueError('garbled')
 k=_F.write(d)
 if k is not None and k!=n:
  raise OSError(28)
def _c():
 global _F
 _F.close();_F=None
def _rm(*ps):
 for p in ps:
  try:
   os.remove(p)
  except OSError:
   pass
"""

HELPERS_DIRS = """def _md(p):
 q=''
 for s in p.split('/'):
  q=q+'/'+s if q else s
  try:
   os.mkdir(q)
  except OSError:
   pass
def _rd(*ps):
 for p in ps:
  try:
   os.rmdir(p)
  except OSError:
   pass
"""

# No os.rename: copy NAME.tmp over NAME inside one exec (the host cannot interrupt it
# half-way), then remove NAME.tmp.
HELPERS_COPY = """def _cp(t,p):
 s=open(t,'rb')
 try:
  d=open(p,'wb')
  try:
   while 1:
    b=s.read(128)
    if not b:
     break
    d.write(b)
  finally:
   d.close()
 except OSError:
  s.close();_rm(p)
  raise
 s.close();os.remove(t)
def _rs(n):
 f=open('%s','wb');z=bytes(128)
 try:
  while n>0:
   f.write(z);n-=128
 finally:
  f.close();_rm('%s')
""" % (RESERVE, RESERVE)

READ = """def _rf(p):
 f=open(p,'rb')
 while 1:
  d=f.read(128)
  if not d:
   break
  print(repr(d))
 f.close()
"""


SMALL_RAM = 32 * 1024  # below this much free heap, soft-reset before flashing


class DeviceInfo:
    def __init__(self, t):
        (self.name, self.version, self.mpy, self.platform, funcs, self.hashlib,
         self.binascii, self.mem_free, self.cwd, self.free_bytes, self.block_size) = t
        self.version = tuple(self.version)
        self.os_funcs = set(funcs)

    @property
    def has_rename(self):
        return "rename" in self.os_funcs

    @property
    def has_dirs(self):
        return "mkdir" in self.os_funcs

    @property
    def check(self):
        return "sha256" if self.hashlib else "adler32"

    def describe(self):
        v = ".".join(str(x) for x in self.version)
        return "MicroPython %s (%s), os: %s" % (v, self.platform, ", ".join(
            sorted(self.os_funcs | {"listdir", "remove"})))


def host_check(data, check):
    """What the device's _fq() returns for `data`, computed on the host."""
    if check == "sha256":
        return (len(data), hashlib.sha256(data).digest())
    a = zlib.adler32(data)
    return (len(data), a & 0xFFFF, a >> 16)


def literal(data, b64):
    """A MicroPython expression for `data`: a bytes literal, or base64 where that is
    shorter and the device has binascii."""
    r = repr(bytes(data))
    if b64:
        enc = binascii.b2a_base64(data, newline=False).decode("ascii")
        if len(enc) + 8 < len(r):
            return "_a('%s')" % enc
    return r


class Device:
    def __init__(self, repl):
        self.repl = repl
        self.info = None
        self.cmd_max = 512  # longest command sent, in bytes: fits the device's RAM
        self._writers = False
        self._reader = False

    def probe(self):
        # A short first command: it settles raw-paste vs classic, and gives the RAM budget.
        mem, stale = self.repl.eval_lines(MEM)[-1]
        if stale or 0 <= mem < SMALL_RAM:
            # A clean heap: on a small board the program that was running (main.py and
            # what it imported) may hold most of the RAM. From the raw REPL, MicroPython
            # ports soft-reset without running main.py.
            self.repl.soft_reset_raw()
            mem, stale = self.repl.eval_lines(MEM)[-1]
        self.cmd_max = max(256, min(16384, mem // 16)) if mem > 0 else 512
        if not self.repl.raw_paste:
            self.repl.warm_up(self.cmd_max + 64)
            self.repl.install_guard()
        self.info = DeviceInfo(self.repl.eval_lines(PROBE)[-1])
        return self.info

    def install_helpers(self):
        head = "_H=%s\n" % ("hashlib" if self.info.hashlib else "None")
        if self.info.binascii:
            head += "_a=binascii.a2b_base64\n"
        self.repl.exec(head + HELPERS)
        self.repl.exec(HELPERS_HASH)
        self._writers = False
        self._reader = False

    def _need_writers(self):
        """The helpers that change files, defined once something is to be changed."""
        if self._writers:
            return
        self.repl.exec(HELPERS_WRITE)
        if self.info.has_dirs:
            self.repl.exec(HELPERS_DIRS)
        if not self.info.has_rename:
            self.repl.exec(HELPERS_COPY)
        self._writers = True

    def _fresh_heap(self):
        """Out of RAM (a small, fragmented heap): soft-reset from the raw REPL and define
        the helpers again. Everything the flash has done so far is on the filesystem."""
        classic = self.repl.raw_paste is False
        writers, reader = self._writers, self._reader
        self.repl.soft_reset_raw()
        if classic:
            self.repl.warm_up(self.cmd_max + 64)
            self.repl.install_guard()
        self.install_helpers()
        if writers:
            self._need_writers()
        if reader:
            self.repl.exec(READ)
            self._reader = True

    def _run(self, code, lines=False):
        """exec (or eval_lines) with one retry on a fresh heap after a MemoryError."""
        for attempt in (0, 1):
            try:
                return self.repl.eval_lines(code) if lines else self.repl.exec(code)
            except E.DeviceOutOfMemory:
                if attempt:
                    raise
                self._fresh_heap()

    def _batches(self, paths, overhead=8):
        batch, size = [], 32
        for p in paths:
            if batch and size + len(p) + overhead > self.cmd_max:
                yield batch
                batch, size = [], 32
            batch.append(p)
            size += len(p.encode()) + overhead
        if batch:
            yield batch

    def query(self, paths):
        """{path: (check of path or None, check of path.tmp or None)}"""
        out = {}
        for batch in self._batches(list(paths)):
            res = self._run("_q(%s)" % ",".join(repr(p) for p in batch), lines=True)
            for p, r in zip(batch, res):
                out[p] = (r[0], r[1])
        return out

    def write(self, path, data, progress=None):
        """Write data to path, each command no longer than cmd_max (halved and sent again
        on a MemoryError; at the smallest size, once more from the start on a fresh
        heap). progress(nbytes) after each chunk."""
        self._need_writers()
        fresh = False
        self._run("_o(%r)" % path)
        try:
            i = 0
            n = self.cmd_max
            while i < len(data):
                room = self.cmd_max - 16  # "_w(...,n)"
                part = data[i:i + n]
                lit = literal(part, self.info.binascii)
                if len(lit) > room:  # escapes made it longer than the data
                    n = max(16, len(part) * room // len(lit) - 4)
                    continue
                try:
                    self.repl.exec("_w(%s,%d)" % (lit, len(part)), guard=False)
                except E.DeviceOutOfMemory:
                    if self.cmd_max > 128:
                        self.cmd_max //= 2
                    elif fresh:
                        raise
                    else:
                        fresh = True
                        self._fresh_heap()
                        self._run("_o(%r)" % path)
                        if progress and i:
                            progress(-i)
                        i = 0
                    n = self.cmd_max
                    continue
                i += len(part)
                n = self.cmd_max
                if progress:
                    progress(len(part))
        finally:
            if self.repl.alive():
                try:
                    self.repl.exec("_c()")
                except E.DeviceError:
                    pass

    def commit(self, tmp, path):
        self._need_writers()
        if self.info.has_rename:
            self._run("os.rename(%r,%r)" % (tmp, path))
        else:
            self._run("_cp(%r,%r)" % (tmp, path))

    def reserve(self, nbytes):
        """Prove that nbytes more fit on a device without rename (then free them again)."""
        self._need_writers()
        self._run("_rs(%d)" % nbytes)

    def remove(self, paths):
        self._need_writers()
        for batch in self._batches(list(paths)):
            self._run("_rm(%s)" % "".join(repr(p) + "," for p in batch))

    def mkdirs(self, dirs):
        self._need_writers()
        for d in dirs:
            self._run("_md(%r)" % d)

    def rmdirs(self, dirs):
        self._need_writers()
        for batch in self._batches(list(dirs)):
            self._run("_rd(%s)" % "".join(repr(p) + "," for p in batch))

    def read(self, path):
        """The bytes of a device file (DeviceFileMissing if it is not there)."""
        if not self._reader:
            self.repl.exec(READ)
            self._reader = True
        return b"".join(self._run("_rf(%r)" % path, lines=True))


def is_enospc(exc):
    return isinstance(exc, E.DeviceError) and getattr(exc, "errno", None) == errno.ENOSPC
