"""The `glasses` link commands end to end, in real time, against simulated glasses in
another thread (as `make sim` in another terminal): through a running host's control
endpoint, over BLE themselves when no host runs, and their error exits."""
import json
import socket
import sys
import time
import types

import pytest

from firmware.protocol import kinds
from firmware.protocol.channels import EVENTS
from host_tools import cli, errors as exits
from link_util import RigThread


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    d = tmp_path / "cfg"
    monkeypatch.setenv("GLASSES_CONFIG_DIR", str(d))
    monkeypatch.delenv("GLASSES_RADIO", raising=False)
    return d


def run(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, " ".join((out.out + out.err).split())  # rich wraps long lines


@pytest.fixture
def notify_plugin(monkeypatch):
    """A notify_host in this build: it sends the notification's id as an EVENT (the
    glasses' real notification service is another feature; the link is what is tested)."""
    mod = types.ModuleType("host_tools.notify.host")
    sent = []

    def send_notification(phone, **fields):
        sent.append(fields)
        phone.send(EVENTS, kinds.event("notify-test", fields["id"]))
        return {"queued": fields["id"]}

    mod.send_notification = send_notification
    monkeypatch.setitem(sys.modules, "host_tools.notify.host", mod)
    return sent


def test_commands_go_through_the_running_host(tmp_path, cfg, capsys, notify_plugin):
    with RigThread(tmp_path, control_dir=str(cfg)) as rig:
        rig.wait_open()
        code, out = run(capsys, "status")
        assert code == 0, out
        assert "through the running host" in out and "xiao_esp32s3_sense" in out
        assert "firmware │ 0.1.0" in out and "bonds │ 1" in out
        assert "{'" not in out and "queued 0" in out, out  # cells for people, not reprs
        code, raw = cli.main(["status", "--json"]), capsys.readouterr().out
        st = json.loads(raw)
        assert code == 0 and st["board"] == "xiao_esp32s3_sense"
        assert st["link"]["state"] == "open" and st["host_link"]["state"] == "open"
        assert 0 <= st["battery"] <= 100

        code, out = run(capsys, "logs")  # what the glasses hold, then it returns
        assert code == 0, out
        assert "boot: xiao_esp32s3_sense, reset cause 1" in out and "INFO link up" in out

        code, out = run(capsys, "notify", "--app", "Chat", "--title", "Hi", "--id", "n-42")
        assert code == 0, out
        assert "sent n-42 through the running host" in out and "queued n-42" in out
        assert notify_plugin[0]["title"] == "Hi" and notify_plugin[0]["app"] == "Chat"
        deadline = time.monotonic() + 15  # delivered over the link (the CLI returned when
        while not rig.call(lambda: list(rig.got)) and time.monotonic() < deadline:  # queued)
            time.sleep(0.05)
        assert rig.call(lambda: list(rig.got)) == [("notify-test", "n-42")]

        # still one link: the host held it all along, the commands did not connect
        assert rig.call(lambda: rig.rig.glasses.app.gatt.connects) == 1


def test_forget_through_the_host_then_connect_pairs_again(tmp_path, cfg, capsys):
    with RigThread(tmp_path, control_dir=str(cfg)) as rig:
        rig.wait_open()
        keys = tmp_path / "simhost" / "bonds.json"
        assert len(next(iter(json.loads(keys.read_text()).values()))) == 1
        code, out = run(capsys, "forget")
        assert code == 0, out
        assert "bonds forgotten" in out and "this computer forgot its keys" in out
        gatt = rig.rig.glasses.app.gatt
        assert rig.call(lambda: gatt.bonds.count()) == 0
        assert json.loads(keys.read_text()) in ({}, {"glasses-host": {}})
        assert rig.call(lambda: rig.sh.service.state()).startswith("paused")
        code, out = run(capsys, "status", "--timeout", "1")  # paused: it says why
        assert code == exits.FAILED and "glasses connect" in out
        code, out = run(capsys, "connect")
        assert code == 0, out
        assert "linked through the running host" in out and "xiao_esp32s3_sense" in out
        assert rig.call(lambda: gatt.bonds.count()) == 1


def test_notify_says_when_this_build_cannot_send(tmp_path, cfg, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "host_tools.notify.host", None)  # not in this build
    code, out = run(capsys, "notify", "--app", "Chat", "--title", "Hi")
    assert code == exits.USAGE and "not available in this build" in out
    code, out = run(capsys, "notify", "--app", "Chat", "--title", "Hi", "--dry-run")
    assert code == 0 and '"title": "Hi"' in out  # --dry-run still works
    code, out = run(capsys, "notify", "--app", "Chat", "--title", "")
    assert code == exits.USAGE and "title" in out


def test_without_a_host_the_cli_links_over_ble(tmp_path, cfg, capsys, notify_plugin):
    with RigThread(tmp_path, host=False) as rig:
        code, out = run(capsys, "status", "--radio", rig.radio_spec)
        assert code == 0, out
        assert "over BLE (virtual:127.0.0.1:%d radio)" % rig.port in out
        assert "battery" in out and "xiao_esp32s3_sense" in out
        code, out = run(capsys, "connect", "--radio", rig.radio_spec, "--name", rig.name)
        assert code == 0 and "session resumed" not in out and "new session" in out, out
        code, out = run(capsys, "notify", "--radio", rig.radio_spec, "--app", "Chat",
                        "--title", "Hi", "--id", "n-7")
        assert code == 0, out
        # the one-shot link waited until the glasses had it before hanging up
        assert rig.call(lambda: list(rig.got)) == [("notify-test", "n-7")]
        code, out = run(capsys, "logs", "--radio", rig.radio_spec)
        assert code == 0 and "reset cause 1" in out, out
        code, last = run(capsys, "logs", "--radio", rig.radio_spec, "-n", "1")
        assert code == 0 and "reset cause 1" not in last and len(last.split(" INFO ")) <= 2
        code, out = run(capsys, "forget", "--radio", rig.radio_spec)
        assert code == 0 and "bonds forgotten" in out, out
        assert rig.call(lambda: rig.rig.glasses.app.gatt.bonds.count()) == 0
        assert json.loads((cfg / "bonds.json").read_text()) in ({}, {"glasses-host": {}})


def test_glasses_host_serves_the_commands_of_another_terminal(tmp_path, cfg, capsys):
    import asyncio
    import threading

    from rich.console import Console

    from host_tools.radio import open_radio
    from host_tools.cli.host import host_main

    with RigThread(tmp_path, host=False) as rig:
        started = threading.Event()
        box = {}
        lines = []

        class Out:
            def write(self, s):
                lines.append(s)

            def flush(self):
                pass

        def host_thread():
            loop = asyncio.new_event_loop()
            box["loop"] = loop

            def up(svc, server):
                box["svc"] = svc
                started.set()
            radio = open_radio(rig.radio_spec)
            box["task"] = loop.create_task(host_main(radio, Console(file=Out(), width=200),
                                                     every_s=60, started=up))
            try:
                box["code"] = loop.run_until_complete(box["task"])
            except BaseException as e:
                box["code"] = e
            loop.close()

        t = threading.Thread(target=host_thread, daemon=True)
        t.start()
        assert started.wait(10)
        fut = asyncio.run_coroutine_threadsafe(box["svc"].wait_open(20), box["loop"])
        fut.result(25)
        code, out = run(capsys, "status")
        assert code == 0 and "through the running host (pid" in out, out
        box["loop"].call_soon_threadsafe(box["task"].cancel)
        t.join(20)
    text = "".join(lines)
    assert "control endpoint: %s" % (cfg / "control.sock") in text
    assert "host: link open: xiao_esp32s3_sense 0.1.0 (new session)" in text
    assert not (cfg / "control.sock").exists()  # taken down with the host


# ---- error exits ------------------------------------------------------------------------
def test_not_found(tmp_path, cfg, capsys):
    with RigThread(tmp_path, host=False) as rig:
        code, out = run(capsys, "status", "--radio", rig.radio_spec, "--name", "Glasses-NONE",
                        "--timeout", "0.5")
    assert code == exits.NOT_FOUND and "Glasses-NONE not found" in out


def _speaks_v1(g):
    g.app.link.session.protocol = 1  # older firmware: the link protocol before this one


def test_version_mismatch_names_both_versions(tmp_path, cfg, capsys):
    with RigThread(tmp_path, host=False, on_boot=_speaks_v1) as rig:
        code, out = run(capsys, "status", "--radio", rig.radio_spec)
        glasses_log = rig.call(lambda: rig.rig.glasses.log_text())
    assert code == exits.VERSION_MISMATCH
    assert "link protocol version mismatch" in out
    assert "speaks version 1" in out and "speaks version 2" in out
    assert "this glasses (0.1.0) speaks version 1, the peer host (0.1.0) speaks version 2" \
        in glasses_log


def test_glasses_host_stops_on_a_version_mismatch(tmp_path, cfg, capsys):
    import asyncio

    from rich.console import Console

    from host_tools.radio import open_radio
    from host_tools.cli.host import host_main

    out = []

    class Out:
        def write(self, s):
            out.append(s)

        def flush(self):
            pass

    with RigThread(tmp_path, host=False, on_boot=_speaks_v1) as rig:
        loop = asyncio.new_event_loop()
        code = loop.run_until_complete(asyncio.wait_for(host_main(
            open_radio(rig.radio_spec), Console(file=Out(), width=300), every_s=60), 30))
        loop.close()
    text = "".join(out)
    assert code == exits.VERSION_MISMATCH
    assert "speaks version 1" in text and "speaks version 2" in text


def _never_opens(g):
    g.app.link.session.link_up = lambda mtu: None  # a firmware that never says hello


def _ignores_status(g):
    g.app.link.route(kinds.STATUS_REQ, lambda msg: None)  # a firmware that never answers


def test_link_timeout_when_the_glasses_never_say_hello(tmp_path, cfg, capsys):
    with RigThread(tmp_path, host=False, on_boot=_never_opens) as rig:
        code, out = run(capsys, "status", "--radio", rig.radio_spec)
    assert code == exits.LINK_TIMEOUT and "connected, but the link did not open" in out


def test_link_timeout_when_the_glasses_do_not_answer(tmp_path, cfg, capsys):
    with RigThread(tmp_path, on_boot=_ignores_status, control_dir=str(cfg)) as rig:
        rig.wait_open()
        code, out = run(capsys, "status", "--timeout", "1")  # through the host
        assert code == exits.LINK_TIMEOUT and "did not answer the status request" in out
    with RigThread(tmp_path / "2", host=False, on_boot=_ignores_status) as rig:
        code, out = run(capsys, "status", "--timeout", "1", "--radio", rig.radio_spec)
    assert code == exits.LINK_TIMEOUT and "did not answer the status request" in out


def test_no_simulator_radio_listening(cfg, capsys):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    code, out = run(capsys, "status", "--radio", "virtual:127.0.0.1:%d" % port)
    assert code == exits.NO_ADAPTER and "cannot reach the simulator's radio" in out
    code, out = run(capsys, "host", "--radio", "virtual:127.0.0.1:%d" % port, "--plain")
    assert code == exits.NO_ADAPTER and "cannot reach the simulator's radio" in out


def test_system_radio_without_bluetooth(cfg, capsys, monkeypatch):
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    code, out = run(capsys, "status", "--radio", "system", "--timeout", "0.3")
    assert code == exits.NO_ADAPTER and "no Bluetooth adapter" in out
    code, out = run(capsys, "host", "--radio", "system", "--plain")
    assert code == exits.NO_ADAPTER and "no Bluetooth adapter" in out


def test_pairing_refused(tmp_path, cfg, capsys, monkeypatch):
    from host_tools.radio.adapter import BumbleAdapter
    legacy = BumbleAdapter._pairing_config

    def legacy_only(self, connection):  # a phone that offers legacy pairing only
        c = legacy(self, connection)
        c.sc = False
        return c

    monkeypatch.setattr(BumbleAdapter, "_pairing_config", legacy_only)
    with RigThread(tmp_path, host=False) as rig:
        code, out = run(capsys, "status", "--radio", rig.radio_spec)
    assert code == exits.PAIRING_REFUSED and "refused" in out and "glasses forget" in out


def test_a_bad_radio_spec_is_a_usage_error(cfg, capsys):
    code, out = run(capsys, "status", "--radio", "virtual:nowhere")
    assert code == exits.USAGE and "expected virtual:HOST:PORT" in out


# ---- `make sim` in real time -------------------------------------------------------------
def test_make_sim_pairs_with_its_host_and_serves_the_radio_and_the_endpoint(cfg):
    from sim import runner
    lines = []
    code = runner.main(seconds=3, seed=3, live=False, port=0, control_dir=str(cfg),
                       out=lines.append)
    text = "\n".join(lines)
    assert code == 0, text
    assert "real time, 3 simulated s, with its host" in lines[0]
    assert "radio: hosts connect with `glasses scan --radio virtual:127.0.0.1:" in text
    assert "control endpoint %s" % (cfg / "control.sock") in text
    assert "INFO  link up" in text and "host link open: xiao_esp32s3_sense 0.1.0" in text
    assert "host: link open: xiao_esp32s3_sense 0.1.0, connects 1" in text
    assert not (cfg / "control.sock").exists()


def test_make_sim_without_a_host_names_the_radio_it_serves(cfg):
    import re

    from sim import runner
    lines = []
    code = runner.main(seconds=1.5, seed=3, live=False, port=0, host=False,
                       control_dir=str(cfg), out=lines.append)
    text = "\n".join(lines)
    assert code == 0, text
    port = re.search(r"--radio virtual:127.0.0.1:(\d+)`", text).group(1)
    assert "no host: run `glasses host --radio virtual:127.0.0.1:%s`" % port in text, text


def test_make_sim_live_view_shows_the_link(cfg, capsys, monkeypatch):
    from sim import runner
    monkeypatch.setenv("COLUMNS", "160")  # a terminal with room for the link's table
    monkeypatch.setenv("LINES", "60")
    code = runner.main(seconds=2.5, seed=3, live=True, port=0, control_dir=str(cfg),
                       out=lambda line: None)
    out = capsys.readouterr().out
    assert code == 0
    assert "link: glasses and host" in out and "host state" in out and "open" in out
