"""The `glasses` command. Each sub-command lives in its own module (listed in COMMANDS)
with a `register(subparsers)` function that adds its parser and sets `fn=`; what several
share is in options.py (--radio, --name, --timeout, --direct) and linking.py (reaching
the glasses: through the running host, else over BLE; the error line)."""
import argparse
import importlib
import sys

import host_tools  # noqa: F401  (installs the MicroPython mirrors the shared code needs)

COMMANDS = [  # in the order `glasses --help` lists them
    "host_tools.cli.sim",
    "host_tools.cli.notify",
    "host_tools.cli.scan",
    "host_tools.cli.pair",
    "host_tools.cli.flash",
    "host_tools.cli.connect",
    "host_tools.cli.status",
    "host_tools.cli.logs",
    "host_tools.cli.forget",
    "host_tools.cli.host",
    "host_tools.cli.ota",
    "host_tools.cli.photos",
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
