"""Deploy a tree of files to a MicroPython device over its raw REPL.

Order of work, chosen so that no interruption and no full filesystem ever leaves a half
file under a real name, and a full filesystem leaves the old files as they were:

1. Before the device is touched: every .py compiles (mpy-cross), names are valid.
2. Probe the device; build for its .mpy version; query what is there: the content check
   (SHA-256, or size + Adler-32 where it has no hashlib) of every file and of its NAME.tmp.
3. Files whose check matches are skipped; a NAME.tmp that already matches (left by an
   interrupted run) is kept: the run resumes.
4. Phase 1: every changed file is written to NAME.tmp (ENOSPC: the .tmp files are removed
   and the old tree is untouched). With os.statvfs the space is checked first.
5. Without os.rename, the space that copying NAME.tmp over NAME needs is proven by
   writing (and removing) a reserve file: a full device fails here, still untouched.
6. Phase 2: each NAME.tmp is moved over NAME (os.rename, or a copy done on the device in
   one exec when there is no rename). Then files of the old manifest that are no longer
   in the tree are removed, every file of the tree is checked once more, and the
   manifest is moved into place last.
7. Soft reset; the boot log is shown.
"""
import time

import host_tools  # noqa: F401  (MicroPython mirrors for the shared firmware code)
from firmware.ota import manifest as M
from host_tools.flash import build, devfs, romdeploy, transport
from host_tools.flash import romfs as R
from host_tools.flash import errors as E

RESERVE_SLACK = 512  # chunk/block rounding of a small flash filesystem
WRITE_TRIES = 3  # a file whose check does not match after writing is written again


class Result:
    def __init__(self):
        self.written = []  # device paths written this run
        self.resumed = []  # NAME.tmp already complete from an interrupted run
        self.skipped = []  # already on the device and matching
        self.removed = []  # no longer in the tree
        self.rewritten = []  # arrived different from what was sent: written again
        self.rom_bytes = 0  # the ROMFS image written (--romfs)
        self.bytes_written = 0  # file and manifest bytes sent this run
        self.manifest_written = False
        self.boot_log = ""
        self.notes = []
        self.info = None
        self.mode = ""
        self.windows = 0  # raw-paste flow-control grants the device sent
        self.resent = 0  # classic-mode commands the device got garbled, sent again
        self.seconds = 0.0

    @property
    def changed(self):
        return bool(self.written or self.resumed or self.removed)


class Quiet:
    """A reporter that keeps messages in a list and shows no progress bar."""

    def __init__(self):
        self.lines = []

    def say(self, msg):
        self.lines.append(msg)

    def start(self, total):
        pass

    def advance(self, n, path):
        pass

    def stop(self):
        pass


def _dirs_of(paths):
    out = set()
    for p in paths:
        parts = p.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            out.add("/".join(parts[:i]))
    return out


def _round_up(n, block):
    return -(-n // block) * block if block else n


def _parse_manifest(data):
    try:
        m, _, _ = M.parse(data)
    except M.ManifestError:
        return None
    return [e[0] for e in m[2]]


def _write_tmp(dev, path, data, res, rep, on_chunk, to_commit, total):
    sent = [0]

    def progress(n):
        sent[0] += n
        res.bytes_written += n
        rep.advance(n, path)
        if on_chunk:
            on_chunk(path, sent[0], len(data))
    try:
        dev.write(path + devfs.TMP, data, progress)
    except E.DeviceError as e:
        if not devfs.is_enospc(e):
            raise
        dev.remove(p + devfs.TMP for p, _, _ in to_commit)
        raise E.DeviceFull("no space left on the device while writing %s (%d of %d "
                           "changed bytes were written); the partial .tmp copies "
                           "were removed" % (path, res.bytes_written, total)) from e


def flash(port, files, version="", board=None, reporter=None, reset="changed",
          on_chunk=None, boot_s=3.0, use_raw_paste=True, baudrate=115200,
          enter_timeout_s=2.0, romfs=False):
    """Flash [(device path, source bytes)] to the device on `port`.

    reset: "changed" (soft reset when something was written), "always" or "never".
    on_chunk(path, done, size): called after each chunk of a file is written (tests use it).
    romfs: the compiled files go into a ROMFS image in the device's ROM segment
    (romdeploy.py); only main.py / boot.py go to the filesystem.
    """
    rep = reporter or Quiet()
    res = Result()
    t0 = time.monotonic()
    build.check_names(files)
    comp = build.check_syntax(files)
    if comp is None:
        res.notes.append("no mpy-cross found: files are checked on the device only")
    repl = transport.Repl(transport.open_port(port, baudrate), port, use_raw_paste)
    try:
        repl.enter(enter_timeout_s)
        dev = devfs.Device(repl)
        info = res.info = dev.probe()
        res.mode = "raw-paste" if repl.raw_paste else "classic raw REPL"
        rep.say("device: %s; cwd %r; %s" % (info.describe(), info.cwd or "/", res.mode))
        out = build.build_for(files, info.mpy, res.notes)
        if romfs:
            image = R.build_image(R.rom_files(out))
            res.notes.append(romdeploy.deploy(dev, image, rep))
            res.rom_bytes = len(image)
            out = [f for f in out if f[0] in R.KEEP_OUT]
        _deploy(dev, out, version, board, rep, res, on_chunk)
        if reset == "always" or (reset == "changed" and res.changed):
            res.boot_log = repl.soft_reset(boot_s)
    finally:
        res.windows = repl.windows
        res.resent = repl.resent
        repl.close()
    res.seconds = time.monotonic() - t0
    return res


def _deploy(dev, files, version, board, rep, res, on_chunk):
    info = dev.info
    for n in res.notes:
        rep.say(n)
    check = info.check
    rep.say("content check: %s" % (
        "SHA-256 on the device (hashlib)" if check == "sha256" else
        "size + Adler-32 computed on the device in Python (it has no hashlib)"))
    if not info.has_rename:
        rep.say("no os.rename: each file goes to NAME.tmp, then is copied over NAME by the "
                "device in one step; the space for that copy is proven first")
    dirs = _dirs_of(p for p, _ in files)
    if dirs and not info.has_dirs:
        raise E.NeedsDirectories(sorted(p for p, _ in files if "/" in p))
    files = sorted(files)
    mbytes = M.envelope(M.build(version, files, board=board))
    dev.install_helpers()

    state = dev.query([p for p, _ in files] + [build.MANIFEST])
    old_paths = []
    if state[build.MANIFEST][0] is not None:
        if state[build.MANIFEST][0] == devfs.host_check(mbytes, check):
            old_paths = [p for p, _ in files]
        else:
            old_paths = _parse_manifest(dev.read(build.MANIFEST))
            if old_paths is None:
                rep.say("the manifest on the device is unreadable: no old file is removed")
                old_paths = []
    new_paths = set(p for p, _ in files)
    obsolete = sorted(p for p in old_paths if p not in new_paths)
    if obsolete:
        state.update(dev.query(obsolete))
        obsolete = [p for p in obsolete if state[p][0] is not None or state[p][1] is not None]

    to_write, to_commit = [], []
    for path, data in files + [(build.MANIFEST, mbytes)]:
        want = devfs.host_check(data, check)
        real, tmp = state[path]
        if real == want:
            if path != build.MANIFEST:
                res.skipped.append(path)
            continue
        if tmp == want:
            res.resumed.append(path)
        else:
            to_write.append((path, data))
        to_commit.append((path, data, real[0] if real else 0))
    # .tmp files a cut-off run left that this run does not use (the file was put back).
    commit_paths = set(p for p, _, _ in to_commit)
    stale = [p + devfs.TMP for p, (_, tmp) in state.items()
             if tmp is not None and p not in commit_paths and p not in obsolete]
    if stale:
        dev.remove(stale)
    if not to_commit and not obsolete:
        rep.say("up to date: %d files match, nothing written%s" % (
            len(res.skipped), "; %d stale .tmp file(s) removed" % len(stale) if stale else ""))
        return
    if res.resumed:
        rep.say("resuming: %d file(s) already complete as .tmp from an interrupted run"
                % len(res.resumed))

    # Phase 1: NAME.tmp for every changed file.
    total = sum(len(d) for _, d in to_write)
    if info.free_bytes is not None and info.free_bytes >= 0 and to_write:
        need = sum(_round_up(len(d), info.block_size) + info.block_size for _, d in to_write)
        if need > info.free_bytes:
            raise E.DeviceFull("the changed files need about %d bytes and the device has "
                               "%d bytes free (os.statvfs); nothing was written"
                               % (need, info.free_bytes))
    new_dirs = sorted(_dirs_of(p for p, _ in to_write))
    if new_dirs:
        dev.mkdirs([d for d in new_dirs if not any(o.startswith(d + "/") for o in new_dirs)])
    rep.start(total)
    try:
        pending = list(to_write)
        for _ in range(WRITE_TRIES):
            for path, data in pending:
                _write_tmp(dev, path, data, res, rep, on_chunk, to_commit, total)
                if path not in res.written:
                    res.written.append(path)
            # Check what arrived (classic raw REPL has no flow control and small ports
            # drop bytes they cannot buffer).
            got = dev.query([p + devfs.TMP for p, _ in pending])
            pending = [(p, d) for p, d in pending
                       if got[p + devfs.TMP][0] != devfs.host_check(d, check)]
            if not pending:
                break
            res.rewritten += [p for p, _ in pending]
        else:
            dev.remove(p + devfs.TMP for p, _, _ in to_commit)
            raise E.TransferCorrupted([p for p, _ in pending], WRITE_TRIES)
    finally:
        rep.stop()

    # No rename: prove that the copies fit before any old file is touched.
    if not info.has_rename and to_commit:
        grow = max(len(d) - old for _, d, old in to_commit)
        if grow > 0:
            try:
                dev.reserve(grow + RESERVE_SLACK)
            except E.DeviceError as e:
                if not devfs.is_enospc(e):
                    raise
                dev.remove(p + devfs.TMP for p, _, _ in to_commit)
                raise E.DeviceFull("the new files fit as .tmp copies, but without os.rename "
                                   "moving them into place needs %d more bytes free; the "
                                   ".tmp copies were removed" % (grow + RESERVE_SLACK)) from e

    # Phase 2: move into place; old files out; the manifest last.
    for path, _, _ in to_commit:
        if path != build.MANIFEST:
            dev.commit(path + devfs.TMP, path)
    if obsolete:
        dev.remove([p for p in obsolete] + [p + devfs.TMP for p in obsolete])
        res.removed = obsolete
        gone = sorted(_dirs_of(obsolete) - _dirs_of(new_paths), key=len, reverse=True)
        if gone and info.has_dirs:
            dev.rmdirs(gone)
    # Every file of the tree, once more, before the manifest says it is there.
    got = dev.query([p for p, _ in files])
    bad = [p for p, d in files if got[p][0] != devfs.host_check(d, check)]
    if bad:
        raise E.FilesystemDamaged(bad)
    if any(p == build.MANIFEST for p, _, _ in to_commit):
        dev.commit(build.MANIFEST + devfs.TMP, build.MANIFEST)
    res.manifest_written = any(p == build.MANIFEST for p, _, _ in to_commit)
    res.written = [p for p in res.written if p != build.MANIFEST]
    res.resumed = [p for p in res.resumed if p != build.MANIFEST]
    if res.rewritten or dev.repl.resent:
        rep.say("the device garbled %d command(s) and %d file(s) on the way; they were sent "
                "again and checked" % (dev.repl.resent, len(set(res.rewritten))))
    rep.say("wrote %d file(s)%s (%d bytes), resumed %d, skipped %d unchanged, removed %d"
            % (len(res.written), " and the manifest" if res.manifest_written else "",
               res.bytes_written, len(res.resumed), len(res.skipped), len(res.removed)))
