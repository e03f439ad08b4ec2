# What the device's main.py runs: pick the firmware copy to boot, import it, run it.
#
# main.py (written by `glasses flash`) is two lines:
#     from firmware import bootmain
#     bootmain.main()
#
# The factory copy (/firmware, /board.py: flashed over serial) is the one that imports this
# module, and it is never touched by an update, so the boot logic here is always the
# factory's. boot.select() (firmware/ota/boot.py) counts the boot and names the copy:
# the factory root or an update slot (/slot_a, /slot_b). That folder goes first on
# sys.path, every firmware module imported so far (this one, boot, store, cbor, ...) is
# dropped from sys.modules (unless the factory copy boots at the first try: those are its
# modules already, and a second copy of their code would stay alive), and that copy's
# board.py (the root's if the slot has none) and
# firmware.app are imported. A copy that fails to import is rolled back at once
# (boot.failed: the reason is kept in the boot state, which the OTA service reports to the
# phone) and the previous copy is tried, down to the factory copy. A slot still on trial
# whose app stops with an error resets the board, so the crash counts as a failed trial
# boot (boot.select rolls back after MAX_TRIAL_BOOTS).
import sys

from firmware.ota import boot

_MAX_TRIES = 4  # the selected copy, the previous one, the factory: never more


def drop_modules(package, board_module="board"):
    """Forget every imported module of `package` (and the board module), so the next
    import reads them from the folder first on sys.path."""
    for name in list(sys.modules):
        if name == package or name.startswith(package + ".") or name == board_module:
            del sys.modules[name]


def use_path(path, previous=None, then=None):
    """Put path first on sys.path (taking out the one a previous try put there), and the
    folder `then` (the factory root: its board.py serves a slot without one) after it."""
    if previous is not None and previous in sys.path:
        sys.path.remove(previous)
    if path in sys.path:
        sys.path.remove(path)
    sys.path.insert(0, path)
    if then is not None and then not in sys.path:
        sys.path.insert(1, then)


def choose(root, try_copy, log=print):
    """Run the boot selection: try_copy(folder, copy, state) imports (or checks) the copy
    and returns what to run; a copy whose try raises is rolled back and the previous one
    tried. Returns (folder, state, what try_copy returned)."""
    path, st = boot.select(root)
    for _ in range(_MAX_TRIES):
        copy = st[0]
        try:
            return path, st, try_copy(path, copy, st)
        except Exception as e:  # a broken copy: SyntaxError, ImportError, ... any of them
            if copy == boot.FACTORY:
                raise
            why = "cannot run: %s: %s" % (type(e).__name__, e)
            log("boot: copy %s (%s) %s" % (copy, st[4], why))
            path, st = boot.failed(root, copy, why)
    raise RuntimeError("boot: no copy imports")


def _importer(root, package, board_module):
    current = [None]
    factory = boot.slot_dir(root, boot.FACTORY)

    def try_copy(path, copy, st):
        if copy != boot.FACTORY or current[0] is not None:
            # Another copy's modules must not be mixed in. The factory copy on the first
            # try is what main.py already imported from: those modules stay (dropping
            # them would keep a second copy of their code alive under bootmain's feet).
            drop_modules(package, board_module)
        use_path(path, current[0], factory)
        current[0] = path
        __import__(board_module)
        __import__(package + ".app")
        return sys.modules[board_module], sys.modules[package + ".app"]

    return try_copy


def main(root="", package="firmware", board_module="board", log=print, reset=None,
         run=None):
    """Boot: choose the copy, import it, run its app with its board. Does not return
    while the app runs. (package, board_module, reset: for tests; run(app module, board
    module) in place of app.main(board): a test's own loop, tests/mpy/standins/minute.py.)"""
    path, st, mods = choose(root, _importer(root, package, board_module), log)
    board, app = mods
    log("boot: %s%s from %s" % ("factory copy" if st[0] == boot.FACTORY else "slot " + st[0],
                               " (%s, trial boot %d)" % (st[4], st[3]) if st[2] else "",
                               path))
    try:
        if run is None:
            app.main(board)
        else:
            run(app, board)
    except Exception as e:
        if not st[2]:
            raise
        log("boot: trial copy %s stopped: %s: %s; resetting" % (st[0], type(e).__name__, e))
        if reset is None:
            import machine
            reset = machine.reset
        reset()
