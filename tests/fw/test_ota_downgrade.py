# No downgrade by update (firmware/ota/: manifest.security, boot.security_floor, the OTA
# service's question to the wearer): a package below the security counter the glasses
# ran healthy with is refused unless the wearer allows it; the counter survives a reset
# and a rollback. CPython and MicroPython.
from fwtest import raises, temp_root
from ota_helpers import FILES, K, Rig, package

from firmware.ota import boot
from firmware.ota.receiver import Downgrade, Receiver
from firmware.protocol import kinds
from firmware.version import SECURITY

HEAP_BUDGET = {"test_an_older_package_is_refused_until_the_wearer_allows_it": 96 * 1024}
FILE_HEAP_BUDGET = 208 * 1024  # imports included: the OTA service and the package helpers
GOOD = (80.0, 3.9, False, 0)


def test_an_older_package_is_refused_until_the_wearer_allows_it():
    r = Rig(battery=GOOD)
    yield from r.connect()
    old = package(security=SECURITY - 1)
    st = yield from r.begin(old)
    assert st[3] == "refused" and "security counter %d, below the %d" % (
        SECURITY - 1, SECURITY) in st[2] and "double-tap" in st[2], st
    assert r.ota.asking() and boot.read_state(r.root)[0] == boot.FACTORY
    assert r.ota.allow_downgrade() and not r.ota.asking()  # the wearer's double tap
    st = yield from r.begin(old, tag=2)  # the phone sends it again: this one may go
    assert st[3] == "ready", st
    yield from r.send_files(st[1])
    r.send({K: kinds.OTA_FINISH})
    yield from r.steps(3000)
    assert r.replies(kinds.OTA_DONE)[-1][1] is True
    assert boot.read_state(r.root)[0] == "a"
    # the allowance was for that package, once: another older one is asked about anew
    other = package(files=FILES[:1], version="0.0.9", security=SECURITY - 1)
    assert raises(Downgrade, Receiver(r.root, security=SECURITY).begin, other)


def test_no_question_no_downgrade_and_the_question_expires():
    r = Rig(battery=GOOD)
    yield from r.connect()
    st = yield from r.begin(package(security=0))
    assert st[3] == "refused" and r.ota.asking()
    yield from r.steps(31000)  # nobody answered
    assert not r.ota.asking() and not r.ota.allow_downgrade()
    st = yield from r.begin(package(security=0), tag=2)
    assert st[3] == "refused", st
    st = yield from r.begin(package(security=SECURITY), tag=3)  # the same level: fine
    assert st[3] == "ready", st


def test_the_counter_survives_a_reset_and_a_rollback():
    root = temp_root("otadown")
    newer = package(files=FILES[:1], version="0.3.0", security=SECURITY + 1)
    rx = Receiver(root, security=SECURITY)
    rx.begin(newer)
    rx.chunk(0, 0, FILES[0][1])
    rx.finish()
    assert boot.security_floor(boot.read_state(root), SECURITY) == SECURITY  # on trial: not yet
    boot.mark_healthy(root)
    assert boot.read_state(root)[8] == SECURITY + 1
    after_reset = Receiver(root, security=SECURITY)  # the factory copy boots, say
    e = raises(Downgrade, after_reset.begin, package(files=FILES[:1], security=SECURITY))
    assert "below the %d" % (SECURITY + 1) in str(e)
    newest = package(files=FILES[:1], version="0.4.0", security=SECURITY + 2)
    after_reset.begin(newest)
    after_reset.chunk(0, 0, FILES[0][1])
    after_reset.finish()
    boot.failed(root, boot.read_state(root)[0], "crashed at import")  # rolled back
    st = boot.read_state(root)
    assert st[8] == SECURITY + 1 and not st[2]  # the newest never ran healthy
    assert boot.security_floor(boot.read_state(root), SECURITY) == SECURITY + 1
