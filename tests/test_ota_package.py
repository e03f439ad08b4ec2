"""Host-side update packages: built from the tree, signed, and accepted by the glasses'
own receiver code."""
import pytest

from firmware.ota import boot, ed25519, manifest
from firmware.ota.receiver import OtaRefused, Receiver
from host_tools import ota_package as P


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
    with pytest.raises(P.PackageError, match="exists"):
        P.keygen()
    with pytest.raises(P.PackageError, match="unknown board"):
        P.collect(board="no_such_board")
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(P.PackageError, match="cannot read signing key"):
        P.build([("a.py", b"x")], "1", str(tmp_path / "junk.pem"))
