"""The `glasses` command. Each sub-command lives in its own module (listed in COMMANDS)
with a `register(subparsers)` function that adds its parser and sets `fn=`."""
import argparse
import importlib
import sys

import host_tools  # noqa: F401  (installs the MicroPython mirrors the shared code needs)

COMMANDS = [
    "host_tools.cli.sim",
    "host_tools.cli.notify",
    "host_tools.cli.ble",
    "host_tools.cli.flash",
    "host_tools.cli.link",
    "host_tools.cli.host",
    "host_tools.cli.ota",
    "host_tools.cli.world",
]


def build_parser():
    p = argparse.ArgumentParser(prog="glasses", description="Tools for the open glasses runtime.")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args) or 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
