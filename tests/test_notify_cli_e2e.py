"""`glasses notify` sends for real: the command's own phone (cmd_notify.send_once) finds
the simulated glasses on the radio, pairs, sends, returns their reply; and the function
the running host's CLI plumbing calls (notify_host.send_notification)."""
import asyncio

from e2e_util import Rig

from host_tools import cli
from host_tools.cli import notify as cmd_notify
from host_tools.radio import open_radio
from host_tools.notify.host import send_notification


def test_the_command_is_the_phone_for_one_notification(tmp_path):
    r = Rig(seed=71)

    async def scenario():
        await r.linked.start(phone=False)
        radio = await r.glasses.wait_radio()
        await asyncio.sleep(1)
        args = cli.build_parser().parse_args(
            ["notify", "--app", "Chat", "--title", "Ana", "--body", "Running late",
             "--category", "message", "--id", "c1", "--timeout", "20"])
        note, cuts = cmd_notify.build_from_args(args)
        clock = r.world.fw_clock  # the phone's session in the simulation's time
        choice = open_radio(radio=radio, config_dir_path=str(tmp_path / "host"))
        try:
            first = await cmd_notify.send_once(choice, note, timeout_s=20, clock=clock)
            again = await cmd_notify.send_once(choice, note, timeout_s=20,
                                               clock=clock)  # bonded by now
        finally:
            await choice.close()
        return first, again

    try:
        first, again = r.run(scenario())
    finally:
        r.close()
    assert (first.id, first.outcome) == ("c1", "accepted")
    assert (again.outcome, again.detail) == ("duplicate", "already delivered")
    assert r.app.notify.svc.center.ids() == ["c1"] and r.app.gatt.bonds.count() == 1


def test_send_notification_through_a_running_phone():
    r = Rig(seed=72)

    async def scenario():
        await r.start()
        ok = await send_notification(r.phone, app="Mail", title="Invoice", id="m1")
        big = await send_notification(r.phone, app="Mail", title="Log", body="x" * 600)
        return ok, big

    try:
        ok, big = r.run(scenario())
    finally:
        r.close()
    assert (ok.id, ok.outcome, ok.cuts) == ("m1", "accepted", [])
    assert big.outcome == "accepted" and big.cuts == ["body cut by 116 chars"]


def test_the_command_reports_a_missing_glasses_clearly(tmp_path):
    r = Rig(seed=73)

    async def scenario():
        await r.linked.start(phone=False)
        radio = await r.glasses.wait_radio()
        args = cli.build_parser().parse_args(["notify", "--app", "A", "--title", "T"])
        note, _ = cmd_notify.build_from_args(args)
        choice = open_radio(radio=radio, config_dir_path=str(tmp_path / "host"))
        try:
            await cmd_notify.send_once(choice, note, name="Glasses-0000", timeout_s=3)
        except cmd_notify.SendError as e:
            return str(e)
        finally:
            await choice.close()

    try:
        why = r.run(scenario())
    finally:
        r.close()
    assert why.startswith("Glasses-0000 not found within 3 s (glasses seen: Glasses-")
