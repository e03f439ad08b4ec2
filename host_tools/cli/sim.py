"""`glasses sim`: boot the firmware on a simulated board, with its host (sim/sim_main.py)."""


def register(sub):
    s = sub.add_parser("sim", help="run the simulated glasses and their host (live view, "
                       "or --fast)",
                       description="Boot the real firmware on a simulated board; an "
                       "in-process host pairs with it over the simulated radio and keeps the "
                       "link up. In real time with a live view on a terminal (plain log lines "
                       "otherwise) until Ctrl-C, with the radio served over TCP and the "
                       "host's control endpoint up (`glasses status` works from another "
                       "terminal); with --fast in virtual time, printing a summary.")
    s.add_argument("--board", default=None,
                   help="board folder under boards/ (default: xiao_esp32s3_sense)")
    s.add_argument("--fast", action="store_true",
                   help="virtual time, as fast as the CPU allows (reproducible from --seed)")
    s.add_argument("--seconds", type=float, default=None,
                   help="simulated seconds to run (default: until Ctrl-C; with --fast: "
                        "the scenario's length + 5 s, or 60)")
    s.add_argument("--seed", type=int, default=None, help="seed (default: random, printed)")
    s.add_argument("--scenario", default=None, metavar="FILE",
                   help="timed events (line format or JSON), e.g. sim/scenarios/demo.txt")
    s.add_argument("--log", default=None, metavar="FILE", help="also write the event log here")
    s.add_argument("--plot", default=None, metavar="FILE",
                   help="at the end, draw the run's timeline here (.png, .svg or .pdf): "
                        "battery, current per power state, link and retransmissions, "
                        "voice queries and their latency, notifications, faults")
    s.add_argument("--verbose", action="store_true", help="log every LED blink too")
    s.add_argument("--plain", action="store_true", help="plain log lines even on a terminal")
    s.add_argument("--no-host", dest="host", action="store_false",
                   help="the glasses alone (in real time `glasses host --radio virtual` in "
                        "another terminal can be their phone)")
    s.add_argument("--port", type=int, default=None,
                   help="TCP port for the radio's host controllers (real time; default 7101)")
    s.set_defaults(fn=run)


def run(args):
    from sim import boards, runner
    return runner.main(board=args.board or boards.DEFAULT, seconds=args.seconds,
                       seed=args.seed, fast=args.fast, scenario=args.scenario,
                       verbose=args.verbose, live=False if args.plain else None,
                       log_path=args.log, host=args.host, port=args.port,
                       plot=args.plot)
