"""boards/<name>/manifest.py, the frozen-firmware manifests (boards/README.md): read the
way MicroPython's tools/manifestfile.py reads them (paths relative to the manifest's
folder, $(PORT_DIR)/$(BOARD_DIR) for the port's own), every board has one, and what it
freezes is the tree `glasses flash` deploys: the firmware package and the board's
board.py as the module `board`."""
import os

from host_tools.flash import build

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _read(board):
    here = os.path.join(ROOT, "boards", board)
    got = {"include": [], "package": [], "module": []}

    def include(path):
        assert path.startswith(("$(PORT_DIR)/", "$(BOARD_DIR)/")), path
        got["include"].append(path)

    def package(path, files=None, base_path=".", opt=None):
        base = os.path.normpath(os.path.join(here, base_path))
        assert os.path.exists(os.path.join(base, path, "__init__.py")), (board, path)
        got["package"].append(os.path.relpath(os.path.join(base, path), ROOT))

    def module(path, base_path=".", opt=None):
        full = os.path.normpath(os.path.join(here, base_path, path))
        assert os.path.exists(full), (board, path)
        got["module"].append(os.path.relpath(full, ROOT))

    with open(os.path.join(here, "manifest.py")) as f:
        exec(compile(f.read(), "manifest.py", "exec"),
             {"include": include, "package": package, "module": module})
    return got


def test_every_board_freezes_the_firmware_and_its_board_module():
    for board in build.boards():
        got = _read(board)
        assert got["package"] == ["firmware"], got
        assert got["module"] == [os.path.join("boards", board, "board.py")], got
        assert len(got["include"]) == 1, got  # and keeps what the stock build freezes
