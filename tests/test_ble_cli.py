"""`glasses scan` / `glasses pair`: against the simulator's radio over TCP (real time, a
simulator running in a thread as it would in another process), and their errors."""
import asyncio
import io
import json
import socket
import threading

import pytest
from rich.console import Console

from ble_util import NAME, run_sim
from host_tools import cli, errors as exits
from host_tools.cli import pair as cmd_pair
from sim.ble_rig import Glasses
from sim.kernel import new_loop
from sim.mirror import bluetooth
from sim.radio import Radio


class SimThread:
    """`glasses sim` stand-in: glasses and an exposed radio in their own real-time loop."""

    def __init__(self, tmp_path):
        self.loop, self.clock = new_loop(False)
        self.tmp = tmp_path
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()

    async def _start(self):
        self.radio = Radio(seed=3)
        self.glasses = Glasses(self.radio, self.clock, str(self.tmp / "flash")).start()
        self.glasses.gatt.set_battery(64)
        _, self.port = await self.radio.serve_tcp(port=0, announce=None)

    def call(self, fn):
        return asyncio.run_coroutine_threadsafe(self._call(fn), self.loop).result(10)

    async def _call(self, fn):
        return fn()

    def __enter__(self):
        self.thread.start()
        assert self.ready.wait(10)
        return self

    def __exit__(self, *exc):
        async def stop():
            await self.glasses.stop()
            await self.radio.close()
        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
        bluetooth.detach()


def test_scan_and_pair_over_tcp(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GLASSES_CONFIG_DIR", str(tmp_path / "host"))
    with SimThread(tmp_path) as sim:
        monkeypatch.setenv("GLASSES_RADIO", "virtual:127.0.0.1:%d" % sim.port)
        assert cli.main(["scan", "--timeout", "0.3"]) == 0
        scanned = capsys.readouterr().out
        radio = "virtual:127.0.0.1:%d" % sim.port
        assert cli.main(["pair", NAME, "--radio", radio, "--timeout", "3"]) == 0
        paired = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
        glasses_bonds = sim.call(lambda: sim.glasses.gatt.bonds.count())
    assert NAME in scanned and "afe90001" in scanned
    assert "paired with %s" % NAME in paired
    assert "model sim, serial A1B2C3D4E5F6, firmware 0.1.0, battery 64%" in paired
    assert glasses_bonds == 1
    keys = json.loads((tmp_path / "host" / "bonds.json").read_text())
    assert len(next(iter(keys.values()))) == 1


def test_pair_reports_glasses_not_found(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GLASSES_CONFIG_DIR", str(tmp_path / "host"))
    with SimThread(tmp_path) as sim:
        code = cli.main(["pair", "Glasses-NONE", "--radio", "virtual:127.0.0.1:%d" % sim.port,
                         "--timeout", "0.3"])
    out = capsys.readouterr().out
    assert code == exits.NOT_FOUND and "Glasses-NONE not found" in out


def test_a_bad_radio_spec_is_refused(capsys):
    assert cli.main(["scan", "--radio", "virtual:nowhere"]) == exits.NO_ADAPTER
    assert "expected virtual:HOST:PORT" in capsys.readouterr().out


def test_no_simulator_listening(capsys):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    code = cli.main(["scan", "--radio", "virtual:127.0.0.1:%d" % port, "--timeout", "0.2"])
    assert code == exits.NO_ADAPTER
    assert "cannot reach the simulator's radio" in capsys.readouterr().out


def test_system_radio_without_bluetooth(capsys, monkeypatch):
    # No BlueZ here (and none reachable at this bus address): bleak's platform backend fails
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    code = cli.main(["scan", "--radio", "system", "--timeout", "0.2"])
    assert code == exits.NO_ADAPTER
    out = capsys.readouterr().out
    assert "no Bluetooth adapter" in out and "--radio virtual" in out


@pytest.mark.parametrize("secure", [True, False])
def test_pair_in_process_and_pairing_refused(tmp_path, secure):
    async def body(env):
        env.host.adapter.bond_options = {"bonding": True, "sc": secure}
        out = io.StringIO()
        code = await cmd_pair.pair(env.host, NAME, 5, Console(file=out, width=200))
        return code, " ".join(out.getvalue().split()), env.glasses.gatt.bonds.count()

    code, out, bonds = run_sim(tmp_path, body)
    if secure:
        assert code == 0 and "paired with %s" % NAME in out and bonds == 1
    else:  # legacy pairing offered: the glasses insist on LE Secure Connections
        assert code == exits.PAIRING_REFUSED and bonds == 0
        assert "refused" in out and "AUTHENTICATION_REQUIREMENTS" in out



def test_pair_with_closed_glasses_says_how_to_open_the_window(tmp_path, monkeypatch):
    """Once a phone is bonded the glasses take no new one until the wearer opens the
    pairing window: `glasses pair` from another computer says so (exit 5), before it
    tries, or when the glasses drop its pairing; in the window it pairs."""
    from host_tools.radio import open_radio

    async def body(env):
        g = env.glasses.gatt
        out = io.StringIO()
        first = await cmd_pair.pair(env.host, NAME, 5, Console(file=out, width=200))
        other = open_radio(radio=env.radio, config_dir_path=str(tmp_path / "other"))
        closed = io.StringIO()
        before = await cmd_pair.pair(other, NAME, 5, Console(file=closed, width=200))
        monkeypatch.setattr(cmd_pair, "pairing_open", lambda ad: None)  # no state byte
        dropped = io.StringIO()
        tried = await cmd_pair.pair(other, NAME, 5, Console(file=dropped, width=200))
        monkeypatch.undo()
        g.open_pairing()
        opened = io.StringIO()
        after = await cmd_pair.pair(other, NAME, 5, Console(file=opened, width=200))
        await other.close()
        return (first, before, tried, after, " ".join(closed.getvalue().split()),
                " ".join(dropped.getvalue().split()), len(g.bonds.peers()))

    first, before, tried, after, closed, dropped, phones = run_sim(tmp_path, body)
    assert first == 0 and after == 0 and phones == 2
    assert before == exits.PAIRING_REFUSED and tried == exits.PAIRING_REFUSED
    assert "is not taking new phones: open its pairing window" in closed
    assert "dropped the pairing" in dropped and "pairing window" in dropped


def test_host_keys_are_private_files(tmp_path, monkeypatch):
    import os
    import stat

    from host_tools import config

    def mode(p):
        return stat.S_IMODE(os.stat(p).st_mode)

    async def body(env):
        out = io.StringIO()
        return await cmd_pair.pair(env.host, NAME, 5, Console(file=out, width=200))

    assert run_sim(tmp_path, body) == 0
    host = tmp_path / "host"
    assert mode(host) == 0o700
    assert mode(host / "bonds.json") == 0o600 and mode(host / "host.json") == 0o600
    os.chmod(host, 0o755)  # as an older version (or a careless copy) left them
    os.chmod(host / "bonds.json", 0o644)
    os.chmod(host / "host.json", 0o644)
    assert run_sim(tmp_path, body) == 0  # opening the adapter again tightens them
    assert mode(host) == 0o700 and mode(host / "bonds.json") == 0o600
    assert mode(host / "host.json") == 0o600
    monkeypatch.setattr(os, "getuid", lambda: os.stat(host).st_uid + 1)
    with pytest.raises(exits.PrivateDirError, match="belongs to another user"):
        config.private_dir(str(host))


def test_pair_stops_scanning_at_the_first_glasses_that_answer(tmp_path):
    """Virtual time: how long `glasses pair --timeout 30` takes with the glasses right
    there is the simulated time it needed, not the timeout."""
    async def body(env):
        t0 = env.loop.time()
        out = io.StringIO()
        code = await cmd_pair.pair(env.host, None, 30, Console(file=out, width=200))
        return code, env.loop.time() - t0

    code, took = run_sim(tmp_path, body)
    assert code == 0 and took < 5, took


def test_not_finding_the_glasses_says_so_in_words(tmp_path):
    from host_tools.errors import GlassesNotFound
    from host_tools.phone.link import Phone

    async def body(env):
        env.glasses.gatt.disconnect()  # (they advertise: make them unfindable)
        await env.glasses.stop()
        p = Phone(env.host, scan_timeout_s=0.5)
        with pytest.raises(GlassesNotFound) as e:
            await p.connect_once()
        return str(e.value)

    assert run_sim(tmp_path, body) == "no glasses found"
