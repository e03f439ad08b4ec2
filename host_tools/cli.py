"""The `glasses` command."""
import argparse
import sys

from host_tools import __name__ as _pkg  # noqa: F401  (installs the MicroPython mirrors)


def _cmd_sim(args):
    from sim import core_demo
    return core_demo.main(seconds=args.seconds, seed=args.seed)


def build_parser():
    p = argparse.ArgumentParser(prog="glasses", description="Tools for the open glasses runtime.")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sim", help="run the simulated glasses (virtual time)")
    s.add_argument("--seconds", type=int, default=20, help="simulated seconds to run")
    s.add_argument("--seed", type=int, default=None, help="seed (default: random, printed)")
    s.set_defaults(fn=_cmd_sim)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args) or 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
