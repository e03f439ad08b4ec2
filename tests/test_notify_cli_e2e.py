"""`glasses notify` sends for real, with the real notification feature on both sides: with
no host running the command links over BLE itself (simulated glasses in real time in
another thread, on the TCP-exposed radio), pairs, sends, prints the glasses' reply; and
the function the running host's control endpoint calls (notify_host.send_notification)."""
from e2e_util import Rig
from link_util import RigThread

from host_tools import cli, errors as exits
from host_tools.notify.host import send_notification


def _notify(capsys, *argv):
    code = cli.main(["notify", *argv])
    got = capsys.readouterr()
    return code, " ".join((got.out + got.err).split())  # rich wraps long lines


def test_the_command_links_and_sends_a_notification(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GLASSES_CONFIG_DIR", str(tmp_path / "cfg"))  # no host running there
    with RigThread(tmp_path, host=False) as rig:
        argv = ("--radio", rig.radio_spec, "--app", "Chat", "--title", "Ana", "--body",
                "Running late", "--category", "message", "--timeout", "20")
        first = _notify(capsys, *argv, "--id", "c1")
        again = _notify(capsys, *argv, "--id", "c2")  # bonded by now: re-encrypts
        ids = rig.call(lambda: rig.rig.glasses.app.notify.svc.center.ids())
        bonds = rig.call(lambda: rig.rig.glasses.app.gatt.bonds.count())
    assert first[0] == exits.OK, first[1]
    assert "sent c1 over BLE (virtual:127.0.0.1:%d radio)" % rig.port in first[1]
    assert "sent c1" in first[1] and ": the glasses took it" in first[1], first[1]
    assert again[0] == exits.OK and "sent c2" in again[1], again[1]
    assert "Reply(" not in first[1] + again[1] and "outcome=" not in first[1]
    assert ids == ["c1", "c2"] and bonds == 1


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


def test_the_command_reports_missing_glasses_clearly(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GLASSES_CONFIG_DIR", str(tmp_path / "cfg"))
    with RigThread(tmp_path, host=False) as rig:
        code, out = _notify(capsys, "--radio", rig.radio_spec, "--name", "Glasses-0000",
                            "--app", "A", "--title", "T", "--timeout", "3")
    assert code == exits.NOT_FOUND, out
    assert "error: Glasses-0000 not found (are they on, near" in out
