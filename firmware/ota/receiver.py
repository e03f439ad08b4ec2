# The glasses' side of an update: stage a package into the inactive slot, chunk by chunk,
# resumable after a disconnect or a reset; verify every file (SHA-256, and the manifest's
# Ed25519 signature when a public key is configured); then switch atomically
# (firmware/ota/boot.py). Sans-IO: the link's file channel feeds it and relays its answers.
#
# What is on flash while staging: ota/pkg (the package envelope), ota/staging (which
# package, which slot), slot_X/<path>.part (a file being received; its size is the offset
# to resume from), slot_X/<path> (received and verified), slot_X/manifest.cbor and
# slot_X/SLOT_OK (all verified; written last).
#
# Every step that hashes a file has a generator form (`*_steps`) that yields every few
# blocks, so a scheduler task can drive it without holding the CPU for a whole file:
#     for _ in rx.chunk_steps(i, off, data, out): await sleep_ms(0)
# The plain forms (begin, chunk, finish) run the same generators to the end.
import os

from firmware.ota import boot, manifest
from firmware.ota.files import (file_sha256, file_sha256_steps, makedirs,  # noqa: F401
                                manifest_digest, rmtree, size_of, tree_bytes)
from firmware.ota.manifest import ManifestError

MANIFEST_NAME = "manifest.cbor"  # the slot's copy of its manifest (what boot proves against)
_RESERVED = (MANIFEST_NAME, boot.OK_MARK)


class OtaError(Exception):
    pass


class OtaRefused(OtaError):
    pass


class Downgrade(OtaRefused):
    """The package's security counter is below what these glasses ran healthy with
    (.digest: the manifest's SHA-256, what the wearer may allow)."""
    digest = None


class AlreadyInstalled(OtaError):
    """The package is the one the device runs now: nothing to send."""


def _run(gen):
    for _ in gen:
        pass


class Receiver:
    def __init__(self, root, can_update=None, public_key=None, free_bytes=None, hook=None,
                 board=None, security=0, downgrade_ok=None):
        self.root = root
        self.security = security  # the running copy's counter (firmware.version.SECURITY)
        self.downgrade_ok = downgrade_ok  # (manifest digest) -> the wearer allowed it
        self.store = boot.state_store(root)
        self.can_update = can_update  # () -> (ok, reason): battery, charging, ...
        self.public_key = public_key  # 32-byte Ed25519 key: signatures required
        self.free_bytes = free_bytes  # () -> bytes free, or None
        self.board = board  # this board's name: a package for another board is refused
        self.hook = hook or (lambda point, info=None: None)  # tests inject resets here
        self.m = None
        self.mbytes = None
        self.slot = None
        self.version = None
        self._resume()

    # ---- state ---------------------------------------------------------------------------
    def _resume(self):
        st = self.store.read_cbor("staging")
        pkg = self.store.read("pkg")
        if st is None or pkg is None:
            return
        try:
            m, mbytes, _ = manifest.parse(pkg)
        except ManifestError:
            self.abort()
            return
        if manifest.sha256(mbytes) != st[0] or boot.read_state(self.root)[0] == st[1]:
            self.abort()  # stale, or already switched to (a reset hit just after the switch)
            return
        self.m = m
        self.mbytes = mbytes
        self.slot = st[1]
        self.version = m[0]

    def _dir(self):
        return boot.slot_dir(self.root, self.slot)

    def _path(self, i):
        return self._dir() + "/" + self.m[2][i][0]

    def offsets(self):
        """Bytes held per file (what the sender resumes from); None when idle."""
        out = [None]
        _run(self.offsets_steps(out))
        return out[0]

    def offsets_steps(self, out):
        """offsets() as a generator (it may have to check a file a reset left unchecked)."""
        if self.m is None:
            out[0] = None
            return
        res = []
        for i, (_, size, _) in enumerate(self.m[2]):
            p = self._path(i)
            if size == 0 and size_of(p) < 0:  # an empty file: nothing will be sent for it
                slash = p.rfind("/")
                if slash > 0:
                    makedirs(p[:slash])
                open(p + ".part", "wb").close()
            if size_of(p) != size and size_of(p + ".part") == size:
                try:
                    for _ in self._settle_steps(i):  # a reset hit between the last
                        yield  # chunk and its check
                except OtaError:
                    pass  # discarded: it is sent again from 0
            res.append(size if size_of(p) == size else max(0, size_of(p + ".part")))
        out[0] = res

    def held(self, i):
        """Bytes of file i held (its resume offset)."""
        size = self.m[2][i][1]
        p = self._path(i)
        return size if size_of(p) == size else max(0, size_of(p + ".part"))

    def held_bytes(self):
        """(bytes held, bytes in the package) of the update being staged (cheap: sizes
        only)."""
        if self.m is None:
            return 0, 0
        held = total = 0
        for i in range(len(self.m[2])):
            total += self.m[2][i][1]
            held += self.held(i)
        return held, total

    def _settle_steps(self, i):
        """A fully received .part: check its hash, then rename it into place."""
        path, _, digest = self.m[2][i]
        final = self._path(i)
        part = final + ".part"
        self.hook("verify", (i, "received"))
        got = [None]
        for _ in file_sha256_steps(part, got):
            yield
        if got[0] != digest:
            os.remove(part)
            raise OtaError("%s: SHA-256 mismatch, file discarded: send it again" % path)
        os.rename(part, final)

    # ---- the steps -----------------------------------------------------------------------
    def begin(self, envelope_bytes):
        """Accept a package (or resume the same one). Returns offsets()."""
        out = [None]
        for _ in self.begin_steps(envelope_bytes, out):
            pass
        return out[0]

    def begin_steps(self, envelope_bytes, out):
        """begin() as a generator (the signature check takes seconds on an MCU: a task
        drives it with `for _ in rx.begin_steps(env, out): await sleep_ms(0)`)."""
        m, mbytes, sig = manifest.parse(envelope_bytes)
        for f in m[2]:
            if f[0] in _RESERVED:
                raise ManifestError("a package may not hold a file named %s" % f[0])
        if m[3] is not None and self.board is not None and m[3] != self.board:
            raise OtaRefused("package is for board %s, this is %s: build it with "
                             "--board %s" % (m[3], self.board, self.board))
        digest = manifest.sha256(mbytes)
        st = boot.read_state(self.root)
        if st[0] != boot.FACTORY and boot.slot_ok(self.root, st[0]) and manifest_digest(
                boot.slot_dir(self.root, st[0]) + "/" + MANIFEST_NAME) == digest:
            raise AlreadyInstalled("%s is installed already (slot %s%s)" % (
                m[0], st[0], ", on trial" if st[2] else ""))
        loader = st.get(7) or manifest.BOOT_VERSION  # the factory's, recorded at boot
        if m[1] > loader:
            raise OtaRefused("package needs bootloader %d, this one is %d" % (m[1], loader))
        if self.public_key is not None:
            if sig is None:
                raise OtaRefused("unsigned package refused: this device requires signatures")
            from firmware.ota import ed25519
            good = [False]
            try:
                for _ in ed25519.verify_steps(self.public_key, mbytes, sig, good, 2):
                    yield
            except ed25519.SignatureError as e:
                raise OtaRefused("bad signature: %s" % e)
            if not good[0]:
                raise OtaRefused("signature does not match the manifest")
        floor = boot.security_floor(st, self.security)
        sec = manifest.security(m)
        if sec < floor and not (self.downgrade_ok is not None and self.downgrade_ok(digest)):
            refusal = Downgrade("package %s has security counter %d, below the %d these "
                                "glasses run: an older, less safe firmware. Refused unless "
                                "the wearer allows it: double-tap the glasses within 30 s of "
                                "the question, then send it again" % (m[0], sec, floor))
            refusal.digest = digest
            raise refusal
        if self.can_update is not None:
            ok, reason = self.can_update()
            if not ok:
                raise OtaRefused(reason)
        if st[2]:
            raise OtaRefused("the last update (%s) is not confirmed healthy yet" % st[4])
        cur = self.store.read_cbor("staging")
        if cur is not None and cur[0] == digest and self.m is not None:
            for _ in self.offsets_steps(out):  # same package: resume
                yield
            return
        need = len(mbytes)
        for f in m[2]:
            need += f[1]
        if self.free_bytes is not None:
            free = self.free_bytes()
            if free is not None and 0 <= free < need + len(envelope_bytes):
                raise OtaRefused("not enough flash: package needs %d bytes, %d free" %
                                 (need + len(envelope_bytes), free))
        # Stage into a slot that is not running. (The previous copy is only needed while
        # an update is on trial, and no update starts then.)
        slot = boot.SLOTS[0] if st[0] != boot.SLOTS[0] else boot.SLOTS[1]
        self.abort()
        self.store.write("pkg", envelope_bytes)
        rmtree(boot.slot_dir(self.root, slot))
        makedirs(boot.slot_dir(self.root, slot))
        self.store.write_cbor("staging", [digest, slot])
        self.m = m
        self.mbytes = mbytes
        self.slot = slot
        self.version = m[0]
        for _ in self.offsets_steps(out):
            yield

    def chunk(self, index, offset, data):
        """Append data to file `index` at `offset`. Returns the offset now held (an
        offset below it is a harmless repeat: nothing is written)."""
        out = [None]
        _run(self.chunk_steps(index, offset, data, out))
        return out[0]

    def chunk_steps(self, index, offset, data, out):
        """chunk() as a generator: out[0] = the offset held. The write is one append; the
        check of a file its last chunk completes is done in steps."""
        if self.m is None:
            raise OtaError("no update in progress")
        if not 0 <= index < len(self.m[2]):
            raise OtaError("file index %d out of range" % index)
        path, size, _ = self.m[2][index]
        final = self._path(index)
        if size_of(final) == size:
            out[0] = size
            return
        part = final + ".part"
        have = max(0, size_of(part))
        if have == size:
            for _ in self._settle_steps(index):  # complete but not checked (a reset came
                yield  # between)
            out[0] = size
            return
        if offset < have:
            out[0] = have
            return
        if offset > have:
            raise OtaError("%s: chunk at %d but only %d bytes held" % (path, offset, have))
        if have + len(data) > size:
            raise OtaError("%s: data runs past its size %d" % (path, size))
        slash = final.rfind("/")
        if have == 0 and slash > 0:
            makedirs(final[:slash])
        with open(part, "ab") as f:
            f.write(data)
        have += len(data)
        self.hook("chunk", (index, have))
        if have == size:
            for _ in self._settle_steps(index):
                yield
        out[0] = have

    def finish(self):
        """Verify every file again, mark the slot complete, switch to it (on trial)."""
        out = [None]
        _run(self.finish_steps(out))
        return out[0]

    def finish_steps(self, out):
        """finish() as a generator: out[0] = the new boot state."""
        if self.m is None:
            raise OtaError("no update in progress")
        for i, (path, size, _) in enumerate(self.m[2]):
            p = self._path(i)
            if size_of(p) != size:
                raise OtaError("%s is incomplete: %d of %d bytes" % (path, max(
                    0, size_of(p + ".part")), size))
        got = [None]
        for i, (path, _, digest) in enumerate(self.m[2]):
            p = self._path(i)
            self.hook("verify", (i, "finish"))
            for _ in file_sha256_steps(p, got):
                yield
            if got[0] != digest:
                os.remove(p)
                raise OtaError("%s changed on flash since it was verified: send it again" % path)
        d = self._dir()
        with open(d + "/" + MANIFEST_NAME, "wb") as f:
            f.write(self.mbytes)
        with open(d + "/" + boot.OK_MARK, "w") as f:
            f.write(self.version)
        self.hook("marked")
        st = boot.switch(self.root, self.slot, self.version, manifest.security(self.m))
        self.hook("switched")
        self.store.remove("staging")
        self.store.remove("pkg")
        self.m = None
        self.mbytes = None
        out[0] = st

    def abort(self):
        """Forget a staged package (its slot is cleared at the next begin)."""
        self.store.remove("staging")
        self.store.remove("pkg")
        self.m = None
        self.mbytes = None
        self.slot = None
