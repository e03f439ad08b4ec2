"""`glasses sim` / `make sim`: the simulated glasses and, by default, their host.

Real time (the default): the glasses boot, the in-process host (sim/sim_host.py) finds
them on the virtual radio, pairs, and keeps the link up; the radio's host controllers are
served over TCP (port 7101, or a free one if taken: the line says which) and the host's
control endpoint in the config dir, so a second terminal can run `glasses status`,
`glasses logs`, `glasses notify ...`, `glasses forget`, `glasses connect`. A terminal gets
the live view (sim/view.py: parts, link state and statistics of both sides, tasks, log);
otherwise plain log lines and a link summary line every `every_s` seconds. Until Ctrl-C.

`fast=True`: virtual time, a scenario (or 60 s), the same in-process host, then a summary.
`host=False`: the glasses alone (in real time still on a TCP-exposed radio, so `glasses
host --radio virtual` in another terminal can be their phone).
"""
import asyncio
import os
import random
import sys
import tempfile

from sim import boards as _boards


def _unbroken(out):
    """out, but once its pipe is gone (`make sim | tee run.log`, Ctrl-C: the reader dies
    with the run) on stderr: the run still ends with its summary, as on a terminal."""
    state = {"broken": False}

    def write(line):
        if not state["broken"]:
            try:
                out(line)
                return
            except BrokenPipeError:
                state["broken"] = True
                if out is print:  # no second traceback when Python flushes stdout at exit
                    devnull = os.open(os.devnull, os.O_WRONLY)
                    os.dup2(devnull, sys.stdout.fileno())
        print(line, file=sys.stderr, flush=True)
    return write


def main(board=_boards.DEFAULT, seconds=None, seed=None, fast=False, scenario=None,
         verbose=False, live=None, log_path=None, record_dir=None, out=print, host=True,
         port=None, control_dir=None, every_s=10.0, plot=None):
    """Returns the exit status. live=None: a live view on a terminal only. port: TCP port
    for the radio's host controllers (real time; default 7101). control_dir: where the
    host's control endpoint goes (real time; None: $GLASSES_CONFIG_DIR or
    ~/.config/glasses). plot: a PNG (or .svg, .pdf) of the run's timeline is drawn there
    at the end (sim/timeline.py)."""
    from sim import runner
    from sim import scenario as _scenario
    from sim.radio import DEFAULT_TCP_PORT

    out = _unbroken(out)
    if seed is None:
        seed = random.randrange(1 << 30)
    try:
        sc = _scenario.load(scenario) if scenario else None
        module = _boards.load(board)
        if plot:
            _check_plot(plot)
    except ValueError as e:  # ScenarioError, unknown board, a plot it cannot write
        out("glasses sim: %s" % e)
        return 2
    if fast and seconds is None:
        seconds = sc.end_s() + 5.0 if sc is not None else 60.0
    use_live = (sys.stdout.isatty() if live is None else live) and not fast
    out("glasses sim: board %s (%s), seed %d, %s%s%s" % (
        board, module.DATA.get("title", ""), seed,
        "virtual time" if fast else "real time",
        ", %g simulated s" % seconds if seconds is not None else ", until Ctrl-C",
        ", with its host" if host else ", no host"))
    log_file = open(log_path, "w") if log_path else None

    def sink(line):
        if not use_live:
            out(line)
        if log_file is not None:
            log_file.write(line + "\n")

    host_dir = tempfile.TemporaryDirectory(prefix="glasses-sim-host-") if host else None
    kw = dict(seed=seed, virtual=fast, log_sink=sink, keep_log=False, verbose=verbose)
    if host:
        from sim.linked import Linked
        rig = Linked(board, worn=False, config_dir=host_dir.name, **kw)
        g = rig.glasses
    else:
        rig = None
        g = runner.SimGlasses(board, radio=not fast, **kw)
    timeline = None
    if plot:
        from sim.timeline import Timeline
        timeline = Timeline(g).start()
    loop = g.world.loop
    state = {"host": None}
    task = loop.create_task(_session(g, rig, sc, seconds, fast,
                                     DEFAULT_TCP_PORT if port is None else port,
                                     control_dir, 0 if use_live or fast else every_s, state))
    view_task = None
    if use_live:
        from sim import view
        view_task = loop.create_task(view.live(g, state))

    def stop_view():
        if view_task is not None:  # cancelling a finished task does nothing
            view_task.cancel()
            loop.run_until_complete(asyncio.gather(view_task, return_exceptions=True))
    try:
        try:
            loop.run_until_complete(task)
        except KeyboardInterrupt:
            stop_view()  # first: a terminal nobody reads would block the loop winding down
            g.stop()
            loop.run_until_complete(task)
    finally:
        stop_view()
        if log_file is not None:
            log_file.close()
    spk = g.world.parts.get("speaker")
    wav = None
    if spk is not None and spk.frames_heard:  # written first: whatever printing does
        d = record_dir or runner.default_out_dir()
        os.makedirs(d, exist_ok=True)
        wav = spk.record_to(os.path.join(d, "%s-speaker.wav" % board))
    drawn = None
    if timeline is not None:
        timeline.stop()
        drawn = timeline.draw(plot)
    out("")
    if state.get("final") is not None:
        from host_tools.phone.view import one_line
        out("host: " + one_line(state["final"]))
    if wav is not None:  # before the summary: its seed line comes last
        out("speaker audio: %s" % wav)
    if drawn is not None:
        out("timeline: %s (%s)" % (plot, ", ".join(drawn)))
    out(g.summary())
    g.close()
    if host_dir is not None:
        host_dir.cleanup()
    sh = state["host"]
    err = sh.error if sh is not None else None
    if err is not None:
        out("glasses sim: the host stopped: %s" % err.message)
        return err.exit_code
    return 0


def _check_plot(path):
    """Refuse a plot path that could not be written, before the run rather than after."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".png", ".svg", ".pdf"):
        raise ValueError("--plot %s: the picture is a .png, .svg or .pdf file" % path)
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d) or not os.access(d, os.W_OK):
        raise ValueError("--plot %s: cannot write in %s" % (path, d))


async def _session(g, rig, sc, seconds, fast, port, control_dir, every_s, state):
    """Boot, start the host (and in real time the TCP radio and the control endpoint),
    run until `seconds` or stop(), then take the host down."""
    from sim.sim_host import SimHost, serve_tcp
    g.start(sc)
    sh = None
    ticker = None
    try:
        if rig is not None:
            await rig.start(phone=False)
            sh = SimHost(rig)
            state["host"] = sh
            await sh.start(control_dir=False if fast else control_dir,
                           tcp_port=None if fast else port)
            if every_s:
                ticker = asyncio.ensure_future(_ticker(g, sh, every_s))
        elif not fast:
            radio = await g.wait_radio()
            h, p = await serve_tcp(radio, port, lambda text: g.world.note("radio", text))
            g.world.note("radio", "no host: run `glasses host --radio virtual:%s:%d` in "
                         "another terminal to be the glasses' phone" % (h, p))
        await g.run(seconds)
    finally:
        if ticker is not None:
            ticker.cancel()
        if sh is not None:
            if sh.service is not None:
                state["final"] = sh.service.snapshot()
            await sh.stop()
        if rig is not None:
            await rig.stop()
        elif g.world.radio is not None:
            await g.world.radio.close()


async def _ticker(g, sh, every_s):
    from host_tools.phone.view import one_line
    while True:
        await asyncio.sleep(every_s)
        g.world.note("host", one_line(sh.service.snapshot()))
