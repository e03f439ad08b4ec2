"""Host-side update packages: built from the tree, signed, and accepted by the glasses'
own receiver code."""
import pytest

from firmware.ota import boot, ed25519, manifest
from firmware.ota.receiver import OtaRefused, Receiver
from host_tools.errors import PackageError
from host_tools.ota import package as P


def test_package_of_the_real_tree_installs_and_verifies(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSES_CONFIG_DIR", str(tmp_path / "cfg"))
    key_path, pub = P.keygen()
    files = P.collect()
    assert ("firmware/ota/boot.py" in [p for p, _ in files])
    pkg = P.build(files, P.firmware_version(), key_path)
    m, mbytes, sig = manifest.parse(pkg)
    assert m[0] == P.firmware_version() and ed25519.verify(pub, mbytes, sig)
    root = str(tmp_path / "dev")
    (tmp_path / "dev").mkdir()
    rx = Receiver(root, public_key=pub)
    offsets = rx.begin(pkg)
    for i, (_, data) in enumerate(files):
        off = offsets[i]
        while off < len(data):
            off = rx.chunk(i, off, data[off:off + 200])
    st = rx.finish()
    path, st = boot.select(root)
    for p, data in files:
        with open(path + "/" + p, "rb") as f:
            assert f.read() == data
    # another key's signature is refused
    other = tmp_path / "other.pem"
    P.keygen(str(other))
    bad = P.build(files, "9.9.9", str(other))
    boot.mark_healthy(root)
    with pytest.raises(OtaRefused, match="signature"):
        Receiver(root, public_key=pub).begin(bad)


def test_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSES_CONFIG_DIR", str(tmp_path))
    P.keygen()
    with pytest.raises(PackageError, match="exists"):
        P.keygen()
    with pytest.raises(PackageError, match="unknown board"):
        P.collect(board="no_such_board")
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(PackageError, match="cannot read signing key"):
        P.build([("a.py", b"x")], "1", str(tmp_path / "junk.pem"))


def test_package_files_are_checked_against_their_manifest():
    from firmware.runtime import cbor
    files = [("firmware/a.py", b"print(1)\n"), ("board.py", b"NAME = 'x'\n")]
    data = P.build_file(files, "1.2.3", board="x")
    env, m, datas = P.open_package(data)
    assert m[0] == "1.2.3" and datas == [d for _, d in files]
    assert manifest.parse(env)[0] == m and cbor.loads(env).get(2) is None  # no contents
    raw = cbor.loads(data)
    for bad, why in (({0: raw[0], 1: None, 2: datas[:1]}, "holds 1 files, its manifest lists 2"),
                     ({0: raw[0], 1: None}, "not an update package file"),
                     ({0: raw[0], 1: None, 2: [datas[0], b"NAME = 'y'\n"]},
                      "board.py in the package does not match")):
        with pytest.raises(PackageError, match=why):
            P.open_package(cbor.dumps(bad))
    with pytest.raises(PackageError, match="not an update package file"):
        P.open_package(b"\x00\x01")
