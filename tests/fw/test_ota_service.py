# The OTA service (firmware/ota/service.py) over a real LinkService and a host Session:
# the messages, their answers, refusals, errors, credit, health. CPython and MicroPython.
from ota_helpers import FILES, K, Rig, package

from firmware.protocol import kinds
from firmware.protocol.channels import CONTROL, FILE, WINDOW
from firmware.ota import boot

# Two sessions (glasses and host) live in these tests.
HEAP_BUDGET = {"test_an_update_is_staged_switched_and_restarts_into": 96 * 1024,
               # two rigs at once, and the Ed25519 check in Python
               "test_signatures_are_required_when_the_board_has_a_key": 72 * 1024}
FILE_HEAP_BUDGET = 208 * 1024  # imports included: the OTA service, a link and a host session
GOOD = (80.0, 3.9, False, 0)  # app.latest["battery"]: soc, volts, charging, t


def test_an_update_is_staged_switched_and_restarts_into():
    r = Rig(battery=GOOD)
    yield from r.connect()

    st = yield from r.begin(package())
    assert st[3] == "ready" and st[1] == [0, 0, 0, 0] and st[4] == 1, st
    assert r.ota.status()["phase"] == "receiving"
    yield from r.send_files(st[1])

    acks = r.replies(kinds.OTA_ACK)
    assert all(a[3] is None for a in acks), acks
    last = {}
    for a in acks:
        last[a[1]] = a[2]
    assert last == {0: len(FILES[0][1]), 1: len(FILES[1][1]), 2: len(FILES[2][1])}, last
    assert r.ota.status()["held"] == r.ota.status()["total"]
    r.send({K: kinds.OTA_FINISH})
    yield from r.steps(3000)
    done = r.replies(kinds.OTA_DONE)
    assert len(done) == 1 and done[0][1] is True and "switched to slot a" in done[0][2]
    assert len(r.resets) == 1  # restarted into the new copy once the answer was through
    st = boot.read_state(r.root)
    assert st[0] == "a" and st[2] is True and st[4] == "0.2.0"
    for name, data in FILES:
        with open(r.root + "/slot_a/" + name, "rb") as f:
            assert f.read() == data
    # the credit came back: nothing is held, the host may send a full window again
    assert r.link.session._rx[FILE].held == 0


def test_resume_answers_the_bytes_held_and_repeats_are_harmless():
    r = Rig(battery=GOOD)
    yield from r.connect()
    env = package()
    st = yield from r.begin(env)
    data = FILES[0][1]
    r.send({K: kinds.OTA_CHUNK, 1: 0, 2: 0, 3: data[:500]})
    r.send({K: kinds.OTA_CHUNK, 1: 0, 2: 100, 3: data[100:300]})  # a repeat
    yield from r.steps(200)
    acks = r.replies(kinds.OTA_ACK)
    assert [(a[1], a[2], a[3]) for a in acks] == [(0, 500, None), (0, 500, None)]
    st = yield from r.begin(env, tag=2)  # the phone starts over (after a restart, say)
    assert st[3] == "ready" and st[1] == [500, 0, 0, 0] and st[4] == 2, st
    r.send({K: kinds.OTA_CHUNK, 1: 0, 2: 900, 3: b"x"})  # a gap: refused, says from where
    yield from r.steps(200)
    a = r.replies(kinds.OTA_ACK)[-1]
    assert a[1] == 0 and a[2] == 500 and "only 500 bytes held" in a[3]
    assert r.ota.status()["error"] == a[3]


def test_refusals_say_why_and_change_nothing():
    r = Rig(battery=(12.0, 3.5, False, 0), options={"ota_needs_charging": True,
                                                    "ota_bytes": 900})
    yield from r.connect()
    st = yield from r.begin(package())
    assert st[3] == "refused" and "battery at 12%" in st[2], st
    r.app.latest["battery"] = (80.0, 3.9, False, 0)
    st = yield from r.begin(package(), tag=2)
    assert st[3] == "refused" and "only while charging" in st[2], st
    r.app.latest["battery"] = (80.0, 4.1, True, 0)
    st = yield from r.begin(package(), tag=3)
    assert st[3] == "refused" and "not enough flash" in st[2], st
    r.board.options["ota_bytes"] = 0
    st = yield from r.begin(package(board="other_board"), tag=4)
    assert st[3] == "refused" and "for board other_board" in st[2], st
    st = yield from r.begin(package(files=[("manifest.cbor", b"x")]), tag=5)
    assert st[3] == "refused" and "bad package" in st[2], st
    del r.app.latest["battery"]
    st = yield from r.begin(package(), tag=6)
    assert st[3] == "refused" and "not measured yet" in st[2], st
    r.board.missing["gauge"] = "OSError: [Errno 19] ENODEV"
    st = yield from r.begin(package(), tag=7)
    assert st[3] == "refused" and "fuel gauge did not start (OSError" in st[2], st
    r.app.latest["battery"] = (80.0, 4.1, True, 0)
    r.app.ota_allowed = lambda: (False, "battery critical (3%)")  # the app's own policy
    st = yield from r.begin(package(), tag=8)
    assert st[3] == "refused" and st[2] == "battery critical (3%)", st
    r.app.ota_allowed = lambda: False  # a policy that only says no
    st = yield from r.begin(package(), tag=9)
    assert st[3] == "refused" and st[2] == "refused by the battery policy", st
    r.app.ota_refusal = lambda: "battery at 9%, below the 20% an update needs"  # its reason
    st = yield from r.begin(package(), tag=10)
    assert st[3] == "refused" and st[2].startswith("battery at 9%"), st
    r.app.ota_refusal = lambda: None  # the policy allows it: the board's rule still holds
    r.board.options["ota_needs_charging"] = False
    r.board.caps = r.board.caps + ("ota_needs_charging",)
    r.app.latest["battery"] = (80.0, 3.9, False, 0)
    st = yield from r.begin(package(), tag=11)
    assert st[3] == "refused" and "only while charging" in st[2], st
    assert boot.read_state(r.root)[0] == boot.FACTORY and r.ota.rx.m is None
    assert r.ota.counts["refused"] == 11


def test_signatures_are_required_when_the_board_has_a_key():
    from ota_vectors import VECTORS

    def unhex(h):
        return bytes(int(h[i:i + 2], 16) for i in range(0, len(h), 2))

    r = Rig(battery=GOOD, options={"ota_public_key": VECTORS[1][0]})
    yield from r.connect()
    st = yield from r.begin(package())
    assert st[3] == "refused" and "unsigned" in st[2], st

    # a signature of something else
    st = yield from r.begin(package(sig=unhex(VECTORS[1][2])), tag=2)
    assert st[3] == "refused" and "signature" in st[2], st
    r2 = Rig(battery=GOOD, options={"ota_public_key": "abcd"})
    yield from r2.connect()
    st = yield from r2.begin(package())
    assert st[3] == "refused" and "misconfigured" in st[2] and "32 bytes" in st[2], st


def test_protocol_errors_are_answered():
    r = Rig(battery=GOOD)
    yield from r.connect()
    r.send({K: kinds.OTA_BEGIN, 1: 10, 2: 0, 3: b"x"}, ch=CONTROL)  # wrong channel
    yield from r.steps(200)
    st = r.replies(kinds.OTA_STATE)[-1]
    assert st[3] == "error" and "file channel" in st[2]
    env = package()
    r.send({K: kinds.OTA_BEGIN, 1: len(env), 2: 100, 3: env[100:200], 4: 9})
    yield from r.steps(200)
    st = r.replies(kinds.OTA_STATE)[-1]
    assert st[3] == "error" and "send the package again from 0" in st[2] and st[4] == 9
    r.send({K: kinds.OTA_BEGIN, 1: 10 ** 6, 2: 0, 3: b"x", 4: 10})
    yield from r.steps(200)
    st = r.replies(kinds.OTA_STATE)[-1]
    assert st[3] == "refused" and "at most" in st[2]
    r.send({K: kinds.OTA_BEGIN, 1: "x"})
    yield from r.steps(200)
    assert r.replies(kinds.OTA_STATE)[-1][3] == "error"
    r.send({K: kinds.OTA_CHUNK, 1: 0, 2: 0, 3: b"abc"})  # no update under way
    r.send({K: kinds.OTA_CHUNK, 1: "a"})
    r.send({K: kinds.OTA_FINISH})
    yield from r.steps(300)
    acks = r.replies(kinds.OTA_ACK)
    assert "no update in progress" in acks[-2][3] and acks[-1][3] == "malformed OTA_CHUNK"
    done = r.replies(kinds.OTA_DONE)[-1]
    assert done[1] is False and "no update in progress" in done[2]
    st = yield from r.begin(package(), tag=11)
    r.send({K: kinds.OTA_CHUNK, 1: 0, 2: 0, 3: b"abc"})
    r.send({K: kinds.OTA_FINISH})  # with files missing
    yield from r.steps(300)
    done = r.replies(kinds.OTA_DONE)[-1]
    assert done[1] is False and "incomplete" in done[2]
    assert boot.read_state(r.root)[0] == boot.FACTORY and not r.resets


def test_a_package_installed_already_is_answered_installed():
    r = Rig(battery=GOOD)
    yield from r.connect()
    env = package()
    st = yield from r.begin(env)
    yield from r.send_files(st[1])
    r.send({K: kinds.OTA_FINISH})
    yield from r.steps(1000)

    st = yield from r.begin(env, tag=2)
    assert st[3] == "installed" and "slot a, on trial" in st[2], st
    st = yield from r.begin(package(version="0.3.0"), tag=3)
    assert st[3] == "refused" and "not confirmed healthy" in st[2], st


def test_the_file_channel_window_bounds_what_waits_for_the_task():
    r = Rig(battery=GOOD)
    yield from r.connect()
    yield from r.begin(package())
    data = FILES[1][1]
    for off in range(0, len(data), 100):  # 30 chunks queued at the host at once
        assert r.send({K: kinds.OTA_CHUNK, 1: 1, 2: off, 3: data[off:off + 100]})
    r.host.poll()  # the host sends what its credit allows; the link delivers it at once
    # the task has not run yet: a window's worth waits, each holding its credit
    assert len(r.ota.q) == WINDOW[FILE] and r.link.session._rx[FILE].held == WINDOW[FILE]
    yield from r.steps(2000)
    assert r.ota.q.empty() and r.link.session._rx[FILE].held == 0
    a = r.replies(kinds.OTA_ACK)[-1]
    assert a[1] == 1 and a[2] == len(data) and a[3] is None


def test_an_answer_waits_for_room_in_the_outbox_and_none_is_lost():
    # the glasses' FILE outbox holds 4 messages; the radio takes nothing from them for a
    # while, so answers pile up and the fifth must wait for room
    r = Rig(battery=GOOD, link_kw={"outboxes": (8, 16, 8, 4, 8)})
    yield from r.connect()
    yield from r.begin(package())
    data = FILES[1][1]
    r.gatt.blocked = True
    for off in range(0, 1600, 100):
        assert r.send({K: kinds.OTA_CHUNK, 1: 1, 2: off, 3: data[off:off + 100]})
    yield from r.steps(300)
    assert r.link.session.pending(FILE) == 4 and len(r.ota.q) == WINDOW[FILE] - 5
    r.gatt.blocked = False
    r.gatt.writable.set()
    r.link.wake.set()
    yield from r.steps(200)  # room comes back at the phone's acks: no timeout involved
    acks = [a[2] for a in r.replies(kinds.OTA_ACK)]
    assert acks == list(range(100, 1700, 100)), acks


def test_a_trial_copy_is_confirmed_once_linked_and_running_long_enough():
    r = Rig(battery=GOOD, config={"ota_healthy_s": 5, "ota_trial_s": 60})
    yield from _switch(r)
    r2 = Rig(battery=GOOD, config={"ota_healthy_s": 5, "ota_trial_s": 60}, root=r.root)
    yield from r2.steps(8000)
    assert boot.read_state(r2.root)[2] is True  # no link yet: not confirmed
    yield from r2.connect()
    reports = r2.replies(kinds.OTA_REPORT)
    assert reports and reports[0][1]["on_trial"] is True and reports[0][1]["copy"] == "a"
    yield from r2.steps(1000)
    st = boot.read_state(r2.root)
    assert st[2] is False and "confirmed healthy" in st[6]
    rep = r2.replies(kinds.OTA_REPORT)[-1][1]
    assert rep["on_trial"] is False and "confirmed healthy" in rep["event"]


def test_a_trial_copy_without_a_link_resets_and_one_without_a_radio_is_kept():
    r = Rig(battery=GOOD)
    yield from _switch(r)
    r2 = Rig(battery=GOOD, config={"ota_healthy_s": 5, "ota_trial_s": 30}, root=r.root)
    yield from r2.steps(29000)
    assert not r2.resets
    yield from r2.steps(2000)
    assert len(r2.resets) == 1 and boot.read_state(r2.root)[2] is True
    r3 = Rig(caps=("fuel_gauge",), config={"ota_healthy_s": 5}, root=r.root)
    yield from r3.steps(6000)
    assert boot.read_state(r3.root)[2] is False and not r3.resets


def _switch(r):
    """Send a whole package through r and switch to it."""
    r.app.latest["battery"] = GOOD
    yield from r.connect()
    st = yield from r.begin(package())
    yield from r.send_files(st[1])
    r.send({K: kinds.OTA_FINISH})
    yield from r.steps(1000)
    assert r.replies(kinds.OTA_DONE)[-1][1] is True
    boot.select(r.root)  # the restart: the bootloader counts the trial boot
