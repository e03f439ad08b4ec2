"""`glasses sim`: run the simulated glasses."""


def register(sub):
    s = sub.add_parser("sim", help="run the simulated glasses (virtual time)")
    s.add_argument("--seconds", type=int, default=20, help="simulated seconds to run")
    s.add_argument("--seed", type=int, default=None, help="seed (default: random, printed)")
    s.set_defaults(fn=run)


def run(args):
    from sim import core_demo
    return core_demo.main(seconds=args.seconds, seed=args.seed)
