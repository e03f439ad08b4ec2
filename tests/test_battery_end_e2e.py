"""The battery's end, end to end (firmware/power/, sim/supply.py): the real firmware on the
simulated XIAO, its phone over the real bumble stack, in virtual time.

A clean end: at the cut-off the glasses say goodbye, tell the phone, keep what must
survive and deep-sleep; charged, they boot, the phone finds them by itself, and what fell
due meanwhile is said once, late. A brown-out in the middle of busy use (a cell that sags
under the load: no goodbye, a flash write cut in half): after charging nothing is lost."""
import os

import pytest
from e2e_util import Rig

from firmware.power.service import GOODBYE
from firmware.runtime import store as store_mod
from firmware.runtime.store import Store
from host_tools.ota import package as P
from host_tools.errors import OtaFailed
from host_tools.ota.host import send_update
from host_tools.power.host import attach as attach_power
from host_tools.power.host import describe
from sim.mirror.machine import SimReset

RECHECK_S = 300
POWER = {"power": {"recheck_s": RECHECK_S}}


async def _wall_known(r):
    assert await r.until(lambda: r.app.wall is not None and r.app.wall.known(), 10)


def _said(r, text):
    return [s for s in r.spoken if text in s]


def test_at_the_cut_off_the_glasses_say_goodbye_tell_the_phone_sleep_and_come_back():
    r = Rig(seed=51, board_options=POWER)
    w = r.world
    g = r.glasses

    async def scenario():
        await r.start()
        watch = attach_power(r.phone)
        await _wall_known(r)
        acts = r.app.voice.actions
        acts.apply({"type": "reminder", "seconds": 120, "text": "call Ana"})
        acts.apply({"type": "timer", "seconds": 3 * 3600})
        w.battery.set_soc(2.6)
        w.power.set_adder("drain", 150.0)  # a load that takes the last % in a minute
        assert await r.until(lambda: w.power.state == "deepsleep", 300)
        t_off = r.now()
        assert _said(r, GOODBYE) == [GOODBYE]
        off = r.phone.glasses_off
        assert off is not None and off["why"] == "battery" and off["pct"] == 2
        assert describe(off).startswith("glasses off: battery empty, last seen ")
        assert describe(off).endswith(" at 2 %")
        text = g.log_text()
        assert "battery empty (2%, " in text and "turned off" in text
        assert "deepsleep for %d ms, a touch wakes it" % (RECHECK_S * 1000) in text
        assert w.supply.brownouts == 0  # off before the cell got near it
        # on the charger: the next timer wake finds enough charge and boots on
        w.power.set_adder("drain", 0.0)
        w.battery.set_charging(True)
        assert await r.until(lambda: g.boots == 2, RECHECK_S + 10)
        assert await r.until(lambda: r.phone.is_open() and r.phone.glasses_off is None, 120)
        assert watch.offs == 1
        assert "back on after the battery ran out" in g.log_text()
        # the reminder fell due while off: said once, late, saying so; the timer runs on
        await _wall_known(r)
        assert await r.until(lambda: _said(r, "call Ana"), 30)
        late = _said(r, "call Ana")
        assert len(late) == 1 and late[0].startswith("Reminder, ") and "late" in late[0]
        acts = r.app.voice.actions
        assert acts.restored == 1 and acts.missed == 1
        left = acts.timers.left()
        assert len(left) == 1 and abs(left[0][0] - (3 * 3600 - (r.now() - t_off) - 60)) < 400
        st = r.app.power.status()
        assert st["battery_offs"] == 1 and st["unclean_boots"] == 0
        # another boot says nothing of it again
        w.request_reset(5, "soft reset")
        assert await r.until(lambda: g.boots == 3, 10)
        assert await r.until(lambda: r.phone.is_open(), 60)
        await r.until(lambda: False, 5)
        assert len(_said(r, "call Ana")) == 1
        assert r.app.voice.actions.restored == 1  # the 3 h timer, still there
    try:
        r.run(scenario())
    finally:
        r.close()


class _CutRename:
    """The store's os, with the next rename inside `root` cut by a brown-out: the new
    copy half written, the rename never done."""

    def __init__(self, real, root, on_cut):
        self._real = real
        self.root = root
        self.on_cut = on_cut
        self.armed = False
        self.cut = None

    def __getattr__(self, name):
        return getattr(self._real, name)

    def rename(self, src, dst):
        if self.armed and os.path.abspath(src).startswith(self.root):
            self.armed = False
            with open(src, "r+b") as f:
                size = f.seek(0, 2)
                f.truncate(size // 2)
            self.cut = os.path.basename(dst)
            self.on_cut()
        return self._real.rename(src, dst)


def _records_parse(root):
    """Every record of the store reads (as the firmware reads it), none torn."""
    st = Store(root)
    out = {}
    for name in st.names():
        if os.path.isdir(os.path.join(root, name)):  # the update's staging (firmware/ota/)
            continue
        data = st.read(name)
        assert data is not None, name
        out[name] = data
    return out


def test_a_brown_out_in_the_middle_of_busy_use_loses_nothing(monkeypatch):
    r = Rig(seed=52, board_options=POWER, config={"voice_vad": False})  # (tap to talk)
    w = r.world
    g = r.glasses
    flash = os.path.abspath(w.flash_dir)

    def brown_out():
        w.battery.set_soc(-1.8)  # the cell sagged: it stays off until charged
        w.supply.down = True
        w.supply.brownouts += 1
        w.note("hw", "brown-out (the test's): in the middle of a flash write")
        w.request_reset(w.supply.reset_cause, "brownout")
        raise SimReset(w.supply.reset_cause, "brownout")

    cut = _CutRename(os, flash, brown_out)
    monkeypatch.setattr(store_mod, "os", cut)

    async def scenario():
        await r.start()
        await _wall_known(r)
        r.app.voice.actions.apply({"type": "reminder", "seconds": 900, "text": "feed the cat"})
        reply = await r.notify.send(app="Chat", title="Lunch?", actions=["yes", "no"])
        assert reply.outcome == "accepted"
        # an update half received
        pkg = P.build_file(P.with_version(P.collect(board="xiao_esp32s3_sense"), "0.2.0"),
                           "0.2.0", board="xiao_esp32s3_sense")
        stop_at = []

        def progress(done, total):
            if not stop_at and done > 0.4 * total:
                stop_at.append(done)
                r.phone.stop()  # the phone goes away mid-transfer

        with pytest.raises(OtaFailed, match="the phone was stopped"):
            await send_update(r.phone, pkg, wait_healthy_s=0, progress=progress)
        assert stop_at
        assert await r.until(lambda: not r.app.link.up, 30)
        # the wearer answers the notification: its action waits in the glasses' outbox
        w.part("imu").double_tap()
        assert await r.until(lambda: r.app.notify.status().get("pending_actions") == 1, 5)
        acts = r.app.voice.actions
        assert acts.set_volume(6)  # a record to overwrite
        volume_before = acts.volume
        cut.armed = True

        async def louder():  # in the firmware's scheduler, as the voice action runs it
            acts.set_volume(3)  # a flash write, cut by the brown-out
        r.app.sched.spawn(louder, name="louder")
        assert await r.until(lambda: w.power.state == "off", 5)
        assert cut.cut == "voice_volume" and g.resets[-1][1] == "brown-out"
        await r.until(lambda: False, 120)  # two minutes dead: nothing comes back
        assert g.boots == 1
        w.battery.set_charging(True)
        assert await r.until(lambda: g.boots == 2, 10)
        assert "the last run ended without a clean shutdown" in g.log_text()
        # the store: every record whole; the cut one the old or the new value
        recs = _records_parse(flash)
        assert recs["voice_volume"] in (bytes((volume_before,)), bytes((3,)))
        assert r.app.voice.actions.volume in (volume_before, 3)
        # the phone comes back (a host starts a new one), finds and relinks them
        linked = r.linked
        linked.phone = linked.make_phone()
        from host_tools.notify.host import attach as attach_notify
        linked.notify = attach_notify(linked.phone)
        linked.phone.rpc.register("tts", r._tts)
        linked._tasks.append(linked.loop.create_task(linked.phone.run()))
        await linked.phone.wait_open(60)
        assert await r.until(lambda: len(r.notify.actions) >= 1, 30)
        await r.until(lambda: False, 10)
        acted = [a for a in r.notify.actions if a.notification_id == reply.id]
        assert len(acted) == 1 and acted[0].value == "yes", acted  # exactly once
        # the update resumes from what the glasses hold, and switches
        res = await send_update(linked.phone, pkg, wait_healthy_s=0)
        assert res.outcome == "switched", res
        assert res.sent_bytes < len(pkg) * 0.8, (res.sent_bytes, len(pkg))
        # the reminder, kept in flash, rings once at its time (the phone gave the time)
        await _wall_known(r)
        assert await r.until(lambda: _said(r, "feed the cat"), 1200)
        await r.until(lambda: False, 30)
        assert len(_said(r, "feed the cat")) == 1
    try:
        r.run(scenario())
    finally:
        r.close()
