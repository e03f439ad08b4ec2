"""Find and load board files (boards/<name>/board.py) for the simulator."""
import importlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT = "xiao_esp32s3_sense"


def names():
    d = os.path.join(ROOT, "boards")
    return sorted(n for n in os.listdir(d)
                  if os.path.isfile(os.path.join(d, n, "board.py")))


def load(name):
    """The board module for `name`; ValueError listing the known boards otherwise."""
    known = names()
    if name not in known:
        raise ValueError("unknown board %r (boards: %s)" % (name, ", ".join(known)))
    if ROOT not in sys.path:  # boards/ is a source tree, not an installed package
        sys.path.insert(0, ROOT)
    from sim import mirror
    mirror.install()
    return importlib.import_module("boards.%s.board" % name)
