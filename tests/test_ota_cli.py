"""`glasses ota`: keygen, build and send, their messages and exit codes."""
import io

from rich.console import Console

from firmware.ota import boot, ed25519, manifest
from host_tools import cli
from host_tools.cli import ota as cmd_ota
from host_tools.ota import package as P
from sim.linked import Linked


def _console():
    buf = io.StringIO()
    return Console(file=buf, width=200, force_terminal=False), buf


def _run(argv):
    args = cli.build_parser().parse_args(argv)
    con, buf = _console()
    return args.fn(args, console=con), buf.getvalue()


def test_keygen_build_and_a_signed_package(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSES_CONFIG_DIR", str(tmp_path / "cfg"))
    code, out = _run(["ota", "keygen"])
    assert code == 0 and '"ota_public_key": "' in out
    pub = bytes.fromhex(out.split('"ota_public_key": "')[1][:64])
    code, out = _run(["ota", "keygen"])
    assert code == 2 and "exists" in out
    pkg = tmp_path / "fw.ota"
    code, out = _run(["ota", "build", "--board", "xiao_esp32s3_sense", "--sign",
                      "--version", "9.1.0", "-o", str(pkg)])
    assert code == 0 and "firmware 9.1.0" in out and "signed" in out, out
    env, m, datas = P.open_package(pkg.read_bytes())
    _, mbytes, sig = manifest.parse(env)
    assert m[0] == "9.1.0" and m[3] == "xiao_esp32s3_sense" and ed25519.verify(pub, mbytes, sig)
    i = [f[0] for f in m[2]].index("firmware/version.py")
    assert b'VERSION = "9.1.0"' in datas[i]
    code, out = _run(["ota", "build", "-o", str(tmp_path / "plain.ota")])
    assert code == 0 and "unsigned" in out and P.firmware_version() in out


def test_errors_are_clear_and_exit_2(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSES_CONFIG_DIR", str(tmp_path / "cfg"))
    code, out = _run(["ota", "build", "--board", "nope", "-o", str(tmp_path / "x")])
    assert code == 2 and "unknown board 'nope'" in out
    code, out = _run(["ota", "build", "--sign", "-o", str(tmp_path / "x")])
    assert code == 2 and "cannot read signing key" in out
    (tmp_path / "junk.ota").write_bytes(b"not cbor at all")
    code, out = _run(["ota", "send", str(tmp_path / "junk.ota")])
    assert code == 2 and "not an update package" in out
    code, out = _run(["ota", "send", str(tmp_path / "missing.ota")])
    assert code == 2 and "No such file" in out
    good = tmp_path / "good.ota"
    good.write_bytes(P.build_file([("firmware/a.py", b"x")], "1"))
    code, out = _run(["ota", "send", str(good), "--radio", "bogus:radio"])
    assert code == 2 and "bogus" in out


def test_send_shows_the_outcome_and_the_glasses_reasons():
    rig = Linked(seed=17, config={"ota_healthy_s": 5})
    files = P.with_version(P.collect(board="xiao_esp32s3_sense"), "0.2.0")

    async def scenario():
        await rig.start()
        await rig.phone.wait_open(30)
        con, buf = _console()
        other = P.build_file(files, "0.2.0", board="pico2w_dev")
        code = await cmd_ota.send_with_progress(rig.phone, other, con, wait_s=60)
        assert code == 1 and "refused the update: package is for board pico2w_dev" in \
            buf.getvalue()
        con, buf = _console()
        pkg = P.build_file(files, "0.2.0", board="xiao_esp32s3_sense")
        code = await cmd_ota.send_with_progress(rig.phone, pkg, con, wait_s=120)
        assert code == 0 and "updated to 0.2.0: update to 0.2.0 confirmed healthy" in \
            buf.getvalue(), buf.getvalue()
        con, buf = _console()
        code = await cmd_ota.send_with_progress(rig.phone, pkg, con, wait_s=60)
        assert code == 0 and "0.2.0 was already installed" in buf.getvalue()
    try:
        rig.run(scenario())
    finally:
        rig.close()


def test_the_sender_refuses_what_it_cannot_send_and_gives_up_on_silence():
    import pytest

    from firmware.protocol import kinds
    from host_tools import errors as exits
    from host_tools.ota import host as ota_host
    rig = Linked(seed=19)
    files = [("firmware/a.py", b"x" * 5000)]
    pkg = P.build_file(files, "0.2.0")

    async def scenario():
        await rig.start()
        await rig.phone.wait_open(30)
        with pytest.raises(ValueError, match="chunk_bytes"):
            await ota_host.send_update(rig.phone, pkg, chunk_bytes=10)
        with pytest.raises(exits.PackageError):
            await ota_host.send_update(rig.phone, b"junk")
        host = ota_host.attach(rig.phone)
        host.upload = object()
        with pytest.raises(exits.OtaFailed, match="already being sent"):
            await ota_host.send_update(rig.phone, pkg)
        host.upload = None
        link = rig.glasses.app.link
        route = link._routes.pop(kinds.OTA_BEGIN)  # glasses that never answer
        with pytest.raises(exits.OtaFailed, match="did not answer within 35 s"):
            await ota_host.send_update(rig.phone, pkg, reply_timeout_s=5)
        assert host.upload is None  # free for the next update
        link.route(kinds.OTA_BEGIN, route)
        full = P.build_file(P.with_version(P.collect(board="xiao_esp32s3_sense"), "0.2.0"),
                            "0.2.0", board="xiao_esp32s3_sense")
        res = await ota_host.send_update(rig.phone, full, wait_healthy_s=2)
        assert res.outcome == "switched"  # not confirmed within 2 s: said so, no error

        class Service:  # what the control endpoint hands control_op: the host's link
            async def wait_open(self, timeout_s):
                return rig.phone

        for req, why in (({"package": 3}, "needs 'package'"),
                         ({"package": "/no/such.ota"}, "No such file"),
                         ({"package": "/no/such.ota", "wait_s": -1}, "wait_s")):
            with pytest.raises(exits.GlassesError, match=why) as e:
                await ota_host.control_op(Service(), req, lambda item: None)
            assert e.value.kind == "bad_request"
    try:
        rig.run(scenario())
    finally:
        rig.close()


def test_send_goes_through_the_running_host_in_real_time(tmp_path, monkeypatch, capsys):
    """`glasses ota send` while `make sim` (a host with its control endpoint) holds the
    link: the update goes through that host; its refusals and results come back."""
    from link_util import RigThread

    from host_tools import errors as exits
    cfg = tmp_path / "cfg"
    monkeypatch.setenv("GLASSES_CONFIG_DIR", str(cfg))
    monkeypatch.delenv("GLASSES_RADIO", raising=False)
    files = P.with_version(P.collect(board="xiao_esp32s3_sense"), "0.2.0")
    good = tmp_path / "good.ota"
    good.write_bytes(P.build_file(files, "0.2.0", board="xiao_esp32s3_sense"))
    other = tmp_path / "other.ota"
    other.write_bytes(P.build_file(files, "0.2.0", board="pico2w_dev"))

    def run(*argv):
        code = cli.main(list(argv))
        out = capsys.readouterr()
        return code, " ".join((out.out + out.err).split())

    with RigThread(tmp_path, control_dir=str(cfg)) as rig:
        rig.wait_open()
        code, out = run("ota", "send", str(other), "--wait", "0")
        assert code == exits.FAILED and "refused the update: package is for board " \
            "pico2w_dev" in out, out
        code, out = run("ota", "send", str(tmp_path / "missing.ota"))
        assert code == exits.USAGE and "No such file" in out
        code, out = run("ota", "send", str(good), "--wait", "0")
        assert code == 0 and "switched to 0.2.0" in out, out
        assert "sending: 100% (" in out and "kB/s" in out, out  # progress, off a terminal
        assert rig.call(lambda: rig.rig.glasses.boot_records[0]["copy"]) == "factory"
        st = rig.call(lambda: boot.read_state(rig.rig.world.flash_dir))
        assert st[0] == "a" and st[4] == "0.2.0"
