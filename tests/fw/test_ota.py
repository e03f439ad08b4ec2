# Updates on the glasses: staging, resume, verification, switch, trial boots, rollback,
# and resets injected at every step. Runs under CPython and MicroPython.
import hashlib
import os

from fwtest import raises, temp_root
from ota_vectors import VECTORS

from firmware.ota import boot, ed25519, manifest
from firmware.ota.receiver import OtaError, OtaRefused, Receiver
from firmware.ota.sha512 import SHA512

HEAP_BUDGET = {"test_a_reset_at_any_step_boots_old_or_new_never_neither": 96 * 1024}

FILES_V2 = [
    ("firmware/app.py", b"VERSION = '0.2.0'\n" + b"# app\n" * 40),
    ("firmware/runtime/sched.py", b"# scheduler v2\n" * 30),
    ("board.py", b"NAME = 'xiao'\n"),
]
CHUNK = 160


def _unhex(h):
    return bytes(int(h[i:i + 2], 16) for i in range(0, len(h), 2))


def _factory(root):
    """A flashed device: the factory copy at the root."""
    for d in ("firmware",):
        try:
            os.mkdir(root + "/" + d)
        except OSError:
            pass
    with open(root + "/firmware/app.py", "w") as f:
        f.write("VERSION = '0.1.0'\n")


def _package(files=FILES_V2, version="0.2.0", min_boot=1, sig=None):
    return manifest.envelope(manifest.build(version, files, min_boot), sig)


def _send_all(rx, env, files=FILES_V2, chunk=CHUNK):
    offsets = rx.begin(env)
    for i, (_, data) in enumerate(files):
        off = offsets[i]
        while off < len(data):
            off = rx.chunk(i, off, data[off:off + chunk])
    return rx.finish()


def _running_version(root):
    """What the bootloader would run now, checked file by file."""
    path, st = boot.select(root)
    if st[0] == boot.FACTORY:
        with open(path + "/firmware/app.py") as f:
            return f.read().strip()
    for name, data in FILES_V2:
        with open(path + "/" + name, "rb") as f:
            assert f.read() == data, "slot %s holds a damaged %s" % (st[0], name)
    return "VERSION = '0.2.0'"


def test_sha512_and_ed25519_known_answers():
    h = SHA512(rounds_per_step=8)
    for _ in h.update_steps(b"ab"):
        yield
    h.update(b"c")
    out = [None]
    for _ in h.digest_steps(out):
        yield
    assert out[0] == _unhex(
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
    yield
    for pub, msg, sig in VECTORS:
        pub, msg, sig = _unhex(pub), _unhex(msg), _unhex(sig)
        bad = bytearray(sig)
        bad[40] ^= 1
        for m, sg, want in ((msg, sig, True), (msg + b"!", sig, False),
                            (msg, bytes(bad), False)):
            res = [None]
            for _ in ed25519.verify_steps(pub, m, sg, res, 2):
                yield  # MicroPython's GC runs between steps: the budget is per step
            assert res[0] is want, (msg, want)
    raises(ed25519.SignatureError, ed25519.verify, b"\x00" * 31, b"", b"\x00" * 64)
    raises(ed25519.SignatureError, ed25519.verify, _unhex(VECTORS[0][0]), b"", b"\x01" * 63)
    s_too_big = b"\x00" * 32 + b"\xff" * 32
    raises(ed25519.SignatureError, ed25519.verify, _unhex(VECTORS[0][0]), b"", s_too_big)


def test_update_switches_on_trial_and_is_confirmed_healthy():
    root = temp_root("ota")
    _factory(root)
    assert _running_version(root) == "VERSION = '0.1.0'"
    st = _send_all(Receiver(root), _package())
    assert st[0] in boot.SLOTS and st[2] is True and st[4] == "0.2.0"
    assert _running_version(root) == "VERSION = '0.2.0'"
    st = boot.mark_healthy(root)
    assert st[2] is False and "healthy" in st[6]
    for _ in range(5):  # confirmed: no more trial counting
        assert _running_version(root) == "VERSION = '0.2.0'"


def test_a_new_firmware_that_never_gets_healthy_is_rolled_back():
    root = temp_root("ota")
    _factory(root)
    _send_all(Receiver(root), _package())
    for _ in range(boot.MAX_TRIAL_BOOTS):
        assert _running_version(root) == "VERSION = '0.2.0'"
    assert _running_version(root) == "VERSION = '0.1.0'"
    st = boot.read_state(root)
    assert "rolled back" in st[6] and "0.2.0" in st[6], st


def test_resume_after_a_disconnect_from_the_held_offsets():
    root = temp_root("ota")
    _factory(root)
    env = _package()
    rx = Receiver(root)
    rx.begin(env)
    data = FILES_V2[0][1]
    assert rx.chunk(0, 0, data[:100]) == 100
    assert rx.chunk(1, 0, FILES_V2[1][1][:50]) == 50
    rx2 = Receiver(root)  # the link dropped; a new session starts over
    assert rx2.begin(env) == [100, 50, 0]
    assert rx2.chunk(0, 40, data[40:100]) == 100  # a repeat: nothing written
    assert rx2.chunk(0, 100, data[100:]) == len(data)
    raises(OtaError, rx2.chunk, 1, 80, b"x")  # a gap: refused, with the reason
    _send_all(rx2, env)
    assert _running_version(root) == "VERSION = '0.2.0'"


def test_a_corrupted_file_is_discarded_and_sent_again():
    root = temp_root("ota")
    _factory(root)
    env = _package()
    rx = Receiver(root)
    rx.begin(env)
    name, data = FILES_V2[2]
    e = raises(OtaError, rx.chunk, 2, 0, b"NAME = 'evil'\n")
    assert "SHA-256 mismatch" in str(e)
    assert rx.offsets()[2] == 0
    _send_all(rx, env)
    assert _running_version(root) == "VERSION = '0.2.0'"


def test_refusals_say_why_and_change_nothing():
    root = temp_root("ota")
    _factory(root)
    env = _package()
    e = raises(OtaRefused, Receiver(root, can_update=lambda: (False, "battery 12%: charge "
                                                              "above 30% to update")).begin, env)
    assert "battery" in str(e)
    e = raises(OtaRefused, Receiver(root).begin, _package(min_boot=9))
    assert "bootloader 9" in str(e)
    e = raises(OtaRefused, Receiver(root, free_bytes=lambda: 100).begin, env)
    assert "not enough flash" in str(e)
    pub = _unhex(VECTORS[1][0])
    e = raises(OtaRefused, Receiver(root, public_key=pub).begin, env)
    assert "unsigned" in str(e)
    try:  # a signature made for something else
        for _ in Receiver(root, public_key=pub).begin_steps(_package(
                sig=_unhex(VECTORS[1][2])), [None]):
            yield
        raise AssertionError("a wrong signature was accepted")
    except OtaRefused as e:
        assert "signature" in str(e)
    raises(manifest.ManifestError, Receiver(root).begin, b"\xa0")
    bad = manifest.envelope(manifest.build("x", [("../boot.py", b"x")]))
    raises(manifest.ManifestError, Receiver(root).begin, bad)
    assert _running_version(root) == "VERSION = '0.1.0'"
    _send_all(Receiver(root), env)
    e = raises(OtaRefused, Receiver(root).begin, _package(version="0.3.0"))
    assert "not confirmed healthy" in str(e)


class _Reset(Exception):
    pass


def test_a_reset_at_any_step_boots_old_or_new_never_neither():
    env = _package()
    k = 0
    while True:
        yield  # one reset position per step: MicroPython's GC runs in between
        root = temp_root("otareset")
        _factory(root)
        calls = [0]

        def hook(point, info=None):
            calls[0] += 1
            if calls[0] == k + 1:
                raise _Reset(point)

        reset_at = None
        try:
            _send_all(Receiver(root, hook=hook), env)
        except _Reset as e:
            reset_at = e.args[0]
        # after the reset: the device boots a complete copy, old or new
        assert _running_version(root) in ("VERSION = '0.1.0'", "VERSION = '0.2.0'"), reset_at
        if reset_at is None:
            break  # k ran past the last step: the update completed
        # the update resumes and completes (unless the reset came after the switch)
        st = boot.read_state(root)
        if not st[2]:
            _send_all(Receiver(root), env)
        assert _running_version(root) == "VERSION = '0.2.0'", reset_at
        k += 1
    assert k >= 12, k  # every chunk, every verification, the mark, the switch


def test_file_hash_streams_the_file():
    root = temp_root("otahash")
    data = bytes(i & 0xFF for i in range(3000))
    with open(root + "/f", "wb") as f:
        f.write(data)
    from firmware.ota.receiver import file_sha256
    assert file_sha256(root + "/f") == hashlib.sha256(data).digest()


def test_checks_run_in_steps_and_the_slot_keeps_its_manifest():
    root = temp_root("ota")
    _factory(root)
    big = bytes(i & 0xFF for i in range(12288))
    files = [("firmware/big.py", big)] + FILES_V2
    mbytes = manifest.build("0.2.0", files)
    rx = Receiver(root)
    rx.begin(manifest.envelope(mbytes))
    out = [None]
    steps = 0
    for off in range(0, len(big), 4000):
        for _ in rx.chunk_steps(0, off, big[off:off + 4000], out):
            steps += 1
            yield
    assert out[0] == len(big) and steps >= 3  # the last chunk's check: 12 KB in 4 KB steps
    assert rx.held(0) == len(big) and rx.held_bytes() == (len(big), sum(len(d) for _, d in files))
    for i, (_, data) in enumerate(FILES_V2):
        rx.chunk(i + 1, 0, data)
    yield
    steps = 0
    for _ in rx.finish_steps(out):
        steps += 1
        yield
    assert steps >= 3 and out[0][4] == "0.2.0"
    with open(boot.slot_dir(root, "a") + "/manifest.cbor", "rb") as f:
        assert f.read() == mbytes
    from firmware.ota.receiver import AlreadyInstalled
    e = raises(AlreadyInstalled, Receiver(root).begin, manifest.envelope(mbytes))
    assert "installed already (slot a, on trial)" in str(e)


def test_the_bootloader_version_checked_is_the_one_that_booted():
    root = temp_root("ota")
    _factory(root)
    path, st = boot.select(root)
    assert boot.read_state(root)[7] == manifest.BOOT_VERSION  # recorded by the boot code
    st = boot.read_state(root)
    st[7] = 5  # a factory copy with a newer bootloader than this firmware's manifest.py
    boot.write_state(root, st)
    assert Receiver(root).begin(_package(min_boot=3)) == [0, 0, 0]
    st[7] = 1
    boot.write_state(root, st)
    e = raises(OtaRefused, Receiver(root).begin, _package(min_boot=3))
    assert "needs bootloader 3, this one is 1" in str(e)
