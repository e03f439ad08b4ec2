"""`glasses flash`: flash the glasses firmware, or any folder of files, over serial.

    glasses flash --port /dev/ttyACM0 --board xiao_esp32s3_sense
    glasses flash --port /dev/ttyACM0 path/to/my_project
"""
import sys

DEFAULT_BOARD = "xiao_esp32s3_sense"


def register(sub):
    s = sub.add_parser("flash", help="flash a dev board over its serial REPL",
                       description="Flash the glasses firmware (firmware/ + the board's "
                       "board.py + main.py), or any folder of files, to a MicroPython "
                       "board over its serial REPL. Only changed files are written.")
    s.add_argument("path", nargs="?", help="a folder to flash instead of the glasses "
                   "firmware (its files go to the device's top level)")
    s.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyACM0")
    s.add_argument("--board", default=None,
                   help="board folder under boards/ (default %s)" % DEFAULT_BOARD)
    s.add_argument("--baud", type=int, default=115200, help="baud rate (default 115200)")
    s.add_argument("--reset", choices=("changed", "always", "never"), default="changed",
                   help="soft reset after flashing (default: when something changed)")
    s.add_argument("--boot-seconds", type=float, default=3.0,
                   help="how long to show the boot log after the reset (default 3)")
    s.add_argument("--romfs", action="store_true",
                   help="put the compiled firmware into a ROMFS image in the device's ROM "
                   "segment (MicroPython built with MICROPY_VFS_ROM): its code runs from "
                   "flash, not the heap")
    s.add_argument("--frozen", action="store_true",
                   help="the board's MicroPython has the firmware frozen in (a build with "
                   "boards/<name>/manifest.py): only main.py goes to the filesystem, and "
                   "firmware files an earlier flash left (they would shadow it) go")
    s.add_argument("--no-raw-paste", action="store_true",
                   help="use the classic raw REPL even where raw-paste mode exists")
    s.set_defaults(fn=run)


class RichReporter:
    """The deployer's reporter: messages, and the bytes written (host_tools/cli/progress.py:
    a bar on a terminal, a line at every tenth otherwise)."""

    def __init__(self, console):
        self.console = console
        self.transfer = None

    def say(self, msg):
        self.console.print(msg, highlight=False)

    def start(self, total):
        from host_tools.cli.progress import Transfer
        self.transfer = Transfer(self.console, "writing").__enter__()
        self.transfer.update(0, total)

    def advance(self, n, path):
        t = self.transfer
        if t is not None:
            t.describe(path[-32:], say=False)
            t.advance(n)

    def stop(self):
        if self.transfer is not None:
            self.transfer.__exit__(None, None, None)
            self.transfer = None


def _check_heap(board, args):
    """The board's heap against what it will run (host_tools/flash/budget.py), before
    the device is touched: HeapTooSmall names what to shrink."""
    from host_tools.flash import budget, build
    tree = build.firmware_tree(board)
    where = "frozen" if args.frozen else "romfs" if args.romfs else "mpy"
    return budget.check(board, budget.board_data(tree, board), build.ROOT,
                        budget.code_bytes(tree), where)


def run(args):
    from rich.console import Console

    from host_tools.flash import build, deploy
    from host_tools.flash import errors as E
    console = Console(stderr=False)
    err = Console(stderr=True)
    try:
        if args.path:
            if args.board:
                raise E.TreeError("--board is for the glasses firmware; a folder is flashed "
                                  "as it is (leave out --board or the folder)")
            if args.frozen:
                raise E.TreeError("--frozen is for the glasses firmware frozen into the "
                                  "board's MicroPython; a folder is flashed as it is")
            files = build.folder_tree(args.path)
            version = build.read_version(args.path.rstrip("/") + "/version.py") or ""
            board = None
            what = "folder %s (%d files)" % (args.path, len(files))
        else:
            board = args.board or DEFAULT_BOARD
            files = build.firmware_tree(board)
            if args.frozen:
                files = [f for f in files if f[0] in build.KEEP_PY]
            version = build.firmware_version()
            what = "glasses firmware %s for %s (%d files)" % (version, board, len(files))
            heap_line = _check_heap(board, args)
        console.print("flashing %s to %s" % (what, args.port), highlight=False)
        if board is not None:
            console.print(heap_line, highlight=False)
        res = deploy.flash(args.port, files, version=version, board=board,
                           reporter=RichReporter(console), reset=args.reset,
                           boot_s=args.boot_seconds, use_raw_paste=not args.no_raw_paste,
                           baudrate=args.baud, romfs=args.romfs)
    except E.FlashError as e:
        err.print("[bold red]flash failed:[/] %s" % e, highlight=False)
        return 1
    if res.boot_log:
        console.print("--- boot log ---", highlight=False)
        sys.stdout.write(res.boot_log.replace("\r\n", "\n").rstrip() + "\n")
        console.print("----------------", highlight=False)
    console.print("done in %.1f s" % res.seconds, highlight=False)
    return 0
