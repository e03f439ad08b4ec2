"""Updates end to end: the phone (host_tools.ota.host on bleak) sends packages built from
the real tree to the simulated glasses over the real bumble stack, in virtual time. What is
checked is what the phone is told, what the glasses boot (sim/ota_boot.py proves each
booted copy complete and importable) and what is on their flash."""
import asyncio
import os

import pytest

from firmware.protocol.channels import FILE, OUTBOX_BYTES
from firmware.protocol.frame import F_CTRL, F_FIRST, F_LAST
from firmware.ota import boot, manifest
from host_tools.errors import RolledBack, UpdateRefused
from host_tools.ota import host as ota_host
from host_tools.ota import package as P
from host_tools.ota.host import send_update
from sim.linked import Linked
from sim.mirror.machine import SimReset
from sim.world import HARD_RESET

BOARD = "xiao_esp32s3_sense"
OLD = "0.1.0"


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    good, pub = P.keygen(str(d / "good.pem"))
    other, _ = P.keygen(str(d / "other.pem"))
    return good, pub, other


def package(version, key=None, board=BOARD, edit=None):
    """A package file of the real tree (firmware/ + the board's board.py) at `version`."""
    files = P.with_version(P.collect(board=board), version)
    if edit is not None:
        files = [(p, edit(p, d)) for p, d in files]
    return P.build_file(files, version, key, board=board)


async def until(cond, timeout_s, step_s=0.1):
    """Wait (virtual time) until cond() holds; fail after timeout_s."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while not cond():
        if loop.time() > end:
            raise AssertionError("condition not met within %s s" % timeout_s)
        await asyncio.sleep(step_s)


def check_boots(glasses, versions):
    """Every boot ran a copy the bootloader could run: the factory copy, or a slot proven
    complete (every manifest file, SHA-256) and importable; never neither."""
    assert glasses.boot_records
    for r in glasses.boot_records:
        assert not r["rolled_back"], r
        if r["copy"] == boot.FACTORY:
            assert r["version"] == OLD, r
        else:
            assert r["copy"] in boot.SLOTS and r["version"] in versions, r
            assert r["files"] > 50 and "imports" in r["proof"] and not r["differs"], r


def unstaged(flash):
    """Nothing of a refused update is on the flash."""
    ota = os.path.join(flash, "ota")
    names = os.listdir(ota) if os.path.isdir(ota) else []
    return not any(n.startswith(("staging", "pkg")) for n in names) and not any(
        os.path.exists(os.path.join(flash, "slot_" + s)) for s in boot.SLOTS)


def test_a_signed_update_is_staged_verified_switched_and_confirmed(keys):
    good, pub, _ = keys
    rig = Linked(seed=5, board_options={"ota_public_key": pub.hex()},
                 config={"ota_healthy_s": 20})
    g = rig.glasses

    async def scenario():
        await rig.start()
        await rig.phone.wait_open(30)
        seen = []
        pkg = package("0.2.0", good)
        res = await send_update(rig.phone, pkg, wait_healthy_s=0,
                                progress=lambda done, total: seen.append((done, total)))
        assert res.outcome == "switched" and "slot a (0.2.0)" in res.detail, res
        assert res.sent_bytes == res.payload_bytes and res.resent_bytes == 0
        assert seen == sorted(seen) and seen[-1] == (res.payload_bytes, res.payload_bytes)
        with open(os.path.join(g.world.flash_dir, "slot_a", "manifest.cbor"), "rb") as f:
            assert f.read() == manifest.parse(pkg)[1]
        # the glasses restart into it: trial boot 1 of slot a, proven complete/importable
        await until(lambda: g.boots == 2, 5)
        rec = g.booted
        assert rec["copy"] == "a" and rec["version"] == "0.2.0" and rec["on_trial"]
        assert rec["trial_boot"] == 1
        await rig.phone.wait_open(60)
        assert rig.phone.peer["version"] == "0.2.0"
        # still on trial: another update is refused, with the reason
        with pytest.raises(UpdateRefused, match="not confirmed healthy"):
            await send_update(rig.phone, package("0.3.0", good), wait_healthy_s=0)
        # linked and running ota_healthy_s: confirmed, and the phone is told
        host = ota_host.attach(rig.phone)
        await until(lambda: host.reports and not host.reports[-1]["on_trial"], 30)
        rep = host.reports[-1]
        assert rep["version"] == "0.2.0" and rep["copy"] == "a"
        assert "confirmed healthy" in rep["event"]
        st = await rig.phone.status()
        assert st["firmware"] == "0.2.0" and st["ota"]["on_trial"] is False
        assert boot.read_state(g.world.flash_dir)[0] == "a"
        check_boots(g, ("0.2.0",))
        lines = g.log_text().splitlines()
        up = next(i for i, ln in enumerate(lines) if "link up" in ln and i > next(
            j for j, x in enumerate(lines) if "boot #2" in x))
        assert any("confirmed healthy" in ln for ln in lines[up:])
    try:
        rig.run(scenario())
    finally:
        rig.close()


def test_resets_at_every_chunk_verification_and_switch_boot_old_or_new_and_resume():
    """A reset after every chunk written; during the check of the first, a middle and the
    last file, both when it completes and again at the finish (each file check is the
    same code: nothing is written between them); after the slot is marked and after the
    switch. Each boot runs the old or the new firmware (proven), and the update resumes
    and completes."""
    seen = set()
    resets = []
    n_files = len(P.collect(board=BOARD))
    checked = (0, n_files // 2, n_files - 1)

    def inject(g):
        def hook(point, info=None):
            key = (point, info)
            if key in seen or (point == "verify" and info[0] not in checked):
                return  # each point once: after the reset the update moves on
            seen.add(key)
            resets.append(key)
            g.world.request_reset(HARD_RESET, "injected at %s %s" % key)
            raise SimReset(HARD_RESET, "injected")
        g.app.ota.rx.hook = hook

    # the phone scans 2 s per try instead of 5 (it finds the glasses well within that):
    # ~250 reconnections are most of this test's time
    rig = Linked(seed=21, on_boot=inject, config={"ota_healthy_s": 5},
                 phone_kw={"scan_timeout_s": 2.0})
    g = rig.glasses

    async def scenario():
        await rig.start()
        await rig.phone.wait_open(30)
        pkg = package("0.2.0")
        _, m, datas = P.open_package(pkg)
        res = await send_update(rig.phone, pkg, wait_healthy_s=120)
        assert res.outcome in ("healthy", "installed"), res
        chunks = 0
        for i, d in enumerate(datas):  # the chunks the sender cuts (sizes fill frames)
            off = 0
            while off < len(d):
                off += ota_host.chunk_size(247, i, off)
                chunks += 1
        points = {}
        for p, _ in resets:
            points[p] = points.get(p, 0) + 1
        assert points["chunk"] == chunks, points
        assert points["verify"] == 2 * len(checked) and points["marked"] == 1 and \
            points["switched"] == 1, points
        assert len(m[2]) == n_files
        # one boot per reset (the one after the switch boots the new copy: the phone then
        # finds it installed), plus the first
        assert len(g.boot_records) == len(resets) + 1
        check_boots(g, ("0.2.0",))
        copies = [r["copy"] for r in g.boot_records]
        assert copies[0] == boot.FACTORY and copies[-1] == "a"
        assert res.glasses_restarts == len(resets)
        st = boot.read_state(g.world.flash_dir)
        assert st[0] == "a" and st[4] == "0.2.0"
    try:
        rig.run(scenario())
    finally:
        rig.close()


class FrameTap:
    """Counts the FILE-channel bytes the phone's session hands to the radio, per message,
    to find what was sent twice."""

    def __init__(self, session):
        self.inner = session._send_frame
        session._send_frame = self.send
        self.total = 0
        self.cur = {}
        self.size = {}

    def send(self, frame):
        ok = self.inner(frame)
        if ok is not False and frame[0] >> 4 == FILE and not frame[0] & F_CTRL:
            seq = frame[1] | frame[2] << 8
            n = len(frame) - 3
            self.total += n
            if frame[0] & F_FIRST:
                self.cur[seq] = 0
            self.cur[seq] = self.cur.get(seq, 0) + n
            if frame[0] & F_LAST:
                self.size[seq] = self.cur[seq]
        return ok

    def sent_twice(self):
        return self.total - sum(self.size.values())


def test_a_disconnect_mid_transfer_resumes_from_what_was_acknowledged():
    rig = Linked(seed=13)

    async def scenario():
        await rig.start()
        await rig.phone.wait_open(30)
        tap = FrameTap(rig.phone.session)
        done = [0, 1]
        drops = []

        def progress(d, t):
            done[:] = [d, t]
            if not drops and d > 0.4 * t:
                drops.append(rig.world.radio.drop())

        res = await send_update(rig.phone, package("0.2.0"), wait_healthy_s=0,
                                progress=progress)
        assert drops == [1] and rig.phone.connects == 2
        assert res.outcome == "switched" and res.attempts == 1 and res.resent_bytes == 0
        twice = tap.sent_twice()
        assert 0 < twice <= OUTBOX_BYTES[FILE], twice  # at most one window of chunks
        assert boot.read_state(rig.world.flash_dir)[4] == "0.2.0"
    try:
        rig.run(scenario())
    finally:
        rig.close()


def _no_radio(path, data):
    if path != "board.py":
        return data
    old = b'return build_board(DATA, log, store_root, store_bytes)'
    assert old in data
    return data.replace(old, old[:-1] + b', radio=_no_radio)') + (
        b'\n\ndef _no_radio():\n    raise OSError("radio firmware left out of this build")\n')


def test_a_firmware_that_never_gets_healthy_is_rolled_back_and_the_phone_told_why():
    rig = Linked(seed=7, config={"ota_healthy_s": 5, "ota_trial_s": 20})
    g = rig.glasses

    async def scenario():
        await rig.start()
        await rig.phone.wait_open(30)
        with pytest.raises(RolledBack) as e:
            await send_update(rig.phone, package("0.2.0-nolink", edit=_no_radio),
                              wait_healthy_s=600)
        assert "rolled back from a (0.2.0-nolink)" in e.value.reason
        assert "not healthy after %d boots" % boot.MAX_TRIAL_BOOTS in e.value.reason
        recs = [(r["copy"], r["version"], r["trial_boot"]) for r in g.boot_records]
        assert recs == [("factory", OLD, 0)] + [
            ("a", "0.2.0-nolink", n) for n in range(1, boot.MAX_TRIAL_BOOTS + 1)] + [
            ("factory", OLD, 0)], recs
        assert "rolled back" in g.boot_records[-1]["event"]
        assert g.log_text().count("got no link in 20 s") == boot.MAX_TRIAL_BOOTS
        st = await rig.phone.status()
        assert st["firmware"] == OLD and st["ota"]["copy"] == boot.FACTORY
        assert "not healthy" in st["ota"]["event"]
        check_boots(g, ("0.2.0-nolink",))
    try:
        rig.run(scenario())
    finally:
        rig.close()


def test_refusals_reach_the_phone_with_their_reasons_and_change_nothing(keys):
    good, pub, other = keys
    rig = Linked(seed=9, board_options={"ota_public_key": pub.hex()})
    g = rig.glasses
    flash = g.world.flash_dir

    async def refused(pkg, match):
        with pytest.raises(UpdateRefused, match=match) as e:
            await send_update(rig.phone, pkg, wait_healthy_s=0)
        assert unstaged(flash) and boot.read_state(flash)[0] == boot.FACTORY
        return e.value.reason

    async def scenario():
        await rig.start()
        await rig.phone.wait_open(30)
        pkg = package("0.2.0", good)
        await refused(package("0.2.0"), "unsigned package refused")
        await refused(package("0.2.0", other), "signature")
        await refused(package("0.2.0", good, board="pico2w_dev"),
                      "package is for board pico2w_dev, this is %s" % BOARD)
        g.board.options["ota_bytes"] = 200000
        await refused(pkg, r"not enough flash: package needs \d+ bytes, 200000 free")
        g.board.options["ota_needs_charging"] = True
        await refused(pkg, "updates only while charging")
        g.world.battery.set_charging(True)
        await until(lambda: g.app.latest["battery"][2], 30)
        await refused(pkg, "not enough flash")  # the charging rule is met now
        g.board.options.update(ota_bytes=0, ota_needs_charging=False)
        g.world.battery.set_charging(False)
        g.world.battery.set_soc(21)
        g.world.power.set_adder("drain", 3000.0)  # drain the battery below 20 %
        await until(lambda: not g.app.latest["battery"][2] and
                    g.app.latest["battery"][0] < 20, 120)
        g.world.power.set_adder("drain", 0.0)
        reason = await refused(pkg, "battery at 1[0-9]%")
        assert "below the 20%" in reason
    try:
        rig.run(scenario())
    finally:
        rig.close()
