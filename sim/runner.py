"""Boot the real firmware on a simulated board and run it: `glasses sim` / `make sim`.

SimGlasses ties one World (sim/world.py: the board's wiring and virtual parts) to one
firmware boot: a Scheduler on the world's clock, the board's own `build()` against the
`machine` mirror, `firmware.app.start()`, and a FirmwareDriver in the world's loop. When
the firmware resets (machine.reset(), deepsleep, the watchdog, a scenario's reset) the
driver stops, the world applies the reset and a new boot begins; the parts keep their
state across it, as they would on the glasses.

    g = SimGlasses("xiao_esp32s3_sense", seed=7)          # virtual time
    g.run_for(60, scenario=sim.scenario.load("demo.txt"))
    print(g.summary())

Booting honours the flash (sim/ota_boot.py): each boot runs the device's boot selection
(firmware/bootmain.py) on the world's flash folder, proves the chosen copy complete and
importable, and records it in `boot_records` (copy, version, trial boot, proof). The
firmware then runs under that copy's version and board.py. `board_options` are merged into
the board's DATA["options"] (e.g. {"ota_public_key": ...}).

The radio: `radio=True` (or a sim.linkmodel.LinkSettings) gives the world a bumble radio
(sim/radio.py) created in the world's loop at the first boot; `bluetooth.BLE()` then
returns the glasses' side of it, and hosts join through `g.world.radio`. Without it the
link shows "no radio" and board.ble stays None.
"""
import asyncio
import os
import time

from sim import boards as _boards
from sim import mirror
from sim.kernel import FirmwareDriver
from sim.mirror.machine import SimReset
from sim.world import RESET_NAMES, World

mirror.install()

from firmware import app as _app  # noqa: E402
from firmware import version as _version  # noqa: E402
from firmware.runtime import clock as _clock  # noqa: E402
from firmware.runtime import sched as _sched  # noqa: E402
from firmware.runtime.log import Log, format_record  # noqa: E402
from sim.ota_boot import SimBoot  # noqa: E402

REPO_VERSION = _version.VERSION


class SimGlasses:
    def __init__(self, board=_boards.DEFAULT, seed=0, virtual=True, flash_dir=None,
                 config=None, skip=(), options=None, log_sink=None, keep_log=True,
                 verbose=False, radio=None, on_boot=None, board_options=None):
        self.board_module = _boards.load(board)
        self.world = World(self.board_module, seed=seed, virtual=virtual,
                           flash_dir=flash_dir, keep_log=keep_log, log_sink=log_sink,
                           verbose=verbose)
        self.radio_settings = radio  # True / LinkSettings: create a radio at the first boot
        self.world.radio = None
        _detach_ble()  # a radio from an earlier world must not leak into this one
        self.radio_ready = None  # an asyncio.Event set once the radio exists
        self.world.activate()
        self.world.populate(skip=skip, options=options)
        self.seed = seed
        self.config = config
        self.on_boot = on_boot  # fn(glasses) after each boot's services started
        self.board_options = dict(board_options or {})
        self.bootsel = SimBoot(board, self.board_module,
                               note=lambda text: self.world.note("boot", text))
        self.boot_records = []  # sim.ota_boot.BootRecord per boot
        self.booted = None  # the latest
        self.sched = None
        self.board = None
        self.app = None
        self.driver = None
        self.boots = 0
        self.resets = []  # (sim seconds, cause name)
        self._stopping = False
        self._task = None
        self._wall_s = 0.0

    # ---- one boot ---------------------------------------------------------------------------
    def boot(self):
        w = self.world
        w.activate()
        _clock.use(w.fw_clock)
        log = Log(128, clock=w.fw_clock, sink=self._fw_log)
        rec, board_module = self.bootsel.select(w.flash_dir, self.boots + 1)
        self.booted = rec
        self.boot_records.append(rec)
        _version.VERSION = rec["version"] or REPO_VERSION
        self.sched = _sched.Scheduler(clock=w.fw_clock, log=log, max_tasks=32)
        self.board = board_module.build(log=log, store_root=w.flash_dir)
        self.board.fs_root = w.flash_dir
        self.board.options.update(self.board_options)
        self.boots += 1
        self.driver = None
        self.app = _app.start(self.sched, self.board, log, self.config)  # may deep-sleep
        self.driver = FirmwareDriver(self.sched, idle=self.board.idle,
                                     on_wake=w.power.wake)
        w.driver = self.driver
        if self.on_boot is not None:
            self.on_boot(self)
        return self.app

    def _fw_log(self, tick, level, msg, a, b):
        self.world.note("fw", format_record(tick, level, msg, a, b))

    # ---- running ----------------------------------------------------------------------------
    def start(self, scenario=None):
        """Begin the boot loop in the world's loop (once); returns its task."""
        if self._task is None:
            if scenario is not None:
                scenario.schedule(self, self.seed)
            self._task = self.world.loop.create_task(self._main())
        return self._task

    def _make_radio(self):
        from sim.linkmodel import DEFAULT, LinkSettings
        from sim.radio import Radio
        settings = self.radio_settings if isinstance(self.radio_settings, LinkSettings) \
            else DEFAULT
        r = Radio(settings, self.seed)
        r.glasses_ble(kick=lambda: self.driver.kick() if self.driver is not None else None,
                      gap_appearance=self.board_module.DATA.get("gap_appearance", 0))
        self.world.radio = r
        self.radio_ready.set()
        return r

    async def wait_radio(self):
        """The world's radio, once the first boot created it."""
        if self.radio_ready is None:
            self.radio_ready = asyncio.Event()
        await self.radio_ready.wait()
        return self.world.radio

    async def _main(self):
        """Boot, run until the firmware resets, apply the reset, boot again; until stop()."""
        w = self.world
        if self.radio_ready is None:
            self.radio_ready = asyncio.Event()
        if self.radio_settings and w.radio is None:
            self._make_radio()
        while not self._stopping:
            try:
                self.boot()  # may deep-sleep at once (a battery still too low)
                await self.driver.run()
            except SimReset:
                pass
            w.driver = None
            req = w.reset_request
            if req is None or self._stopping:
                break
            cause, why, wake_ms = req
            self.resets.append((w.now_s(), "brown-out" if why == "brownout" else
                                RESET_NAMES.get(cause, str(cause))))
            if w.radio is not None and w.radio.ble is not None:
                w.radio.ble.active(False)  # the chip resets: its BLE stack and links too
            w.halt()  # nothing of the MCU runs until it boots again
            if why == "deepsleep":
                w.note("hw", "deepsleep%s%s" % (" for %d ms" % wake_ms if wake_ms else "",
                                                 ", a touch wakes it" if w.deep_wake_touch
                                                 else ""))
                woke = await self._deep_sleep(wake_ms)
                if woke is None:
                    break
                if woke == "brownout":
                    self.resets.append((w.now_s(), "brown-out"))
                    why = "brownout"
                else:
                    w.note("hw", "woken from deep sleep by the %s" % woke)
            if why == "brownout":
                w.power.set_state("off")
                if not await self._off():
                    break
            w.reboot()

    async def _deep_sleep(self, wake_ms):
        """Deep sleep until a wake source (None: the run stopped first)."""
        w = self.world
        task = asyncio.ensure_future(w.deep_sleep(wake_ms))
        while not task.done():
            if self._stopping:
                w.wake_from_deepsleep("stop")
                await task
                return None
            await asyncio.wait([task], timeout=1.0)
        w.deep_wake_touch = False  # the chip's wake configuration goes with the reset
        return task.result()

    async def _off(self):
        """Browned out: nothing runs until the supply can power the MCU again (a
        charger). False if the run stopped first."""
        sup = self.world.supply
        while not self._stopping:
            if sup is None or sup.can_power_on():
                if sup is not None:
                    sup.down = False
                self.world.note("hw", "the supply is back (%.2f V): power-on" %
                                (sup.rail_v() if sup is not None else 0.0))
                return True
            await asyncio.sleep(1.0)
        return False

    async def run(self, seconds=None, scenario=None):
        """Run for `seconds` of simulated time from now (None: until stop())."""
        w = self.world
        task = self.start(scenario)
        wall0 = time.monotonic()
        end = None
        if seconds is not None:
            end = w.call_at_us(w.now_us() + int(seconds * 1e6), self.stop)
        try:
            await task
        finally:
            if end is not None:
                end.cancel()
            self._wall_s += time.monotonic() - wall0

    def run_for(self, seconds, scenario=None):
        """Run `seconds` more of simulated time, blocking (boots on the first call)."""
        task = self.start(scenario)
        wall0 = time.monotonic()
        self.world.loop.run_until_complete(asyncio.wait([task], timeout=seconds))
        self._wall_s += time.monotonic() - wall0
        if task.done():
            task.result()  # a crash of the simulation itself surfaces here
        return self

    def stop(self):
        self._stopping = True
        if self.driver is not None:
            self.driver.stop()

    def close(self):
        loop = self.world.loop
        if self._task is not None and not self._task.done() and not loop.is_closed():
            self.stop()
            loop.run_until_complete(self._task)
        if _clock.active() is self.world.fw_clock:
            _clock.use(None)  # back to the real clock for whatever runs next
        _version.VERSION = REPO_VERSION
        if self.world.radio is not None:
            _detach_ble()
        self.world.close()

    # ---- reporting ----------------------------------------------------------------------------
    def log_text(self):
        return "\n".join(self.world.lines or []) + "\n"

    def part_status(self):
        svc = self.app.services.get("sensors") if self.app else None
        return dict(svc.status) if svc else {}

    def link_state(self):
        r = self.world.radio
        if r is None:
            return "no radio"
        if self.world.power.state in ("deepsleep", "off"):  # the radio is down with it
            return "down (the board is in %s)" % self.world.power.state
        link = self.app.link if self.app is not None else None
        if link is None:
            return "radio, firmware not linked"
        g = link.gatt
        if link.up:
            peer = link.peer or {}
            return "up: %s %s, mtu %d, %s" % (peer.get("role"), peer.get("version"), g.mtu,
                                              "bonded" if g.bonded else "not bonded")
        if g.connected:
            return "connected, %s" % ("encrypted" if g.encrypted else "not encrypted yet")
        return "advertising" if g.adv_phase >= 0 else "idle"

    def summary(self):
        w = self.world
        sim_s = w.now_s()
        rep = w.power.report()
        lines = []
        speed = sim_s / self._wall_s if self._wall_s > 0 else float("inf")
        lines.append("board %s, seed %d, %.1f simulated s in %.2f wall s (%s)"
                     % (w.name, self.seed, sim_s, self._wall_s,
                        "%.0fx" % speed if w.virtual else "real time"))
        resets = ", ".join("%s at %.1f s" % (c, t) for t, c in self.resets) or "none"
        lines.append("boots %d, resets: %s" % (self.boots, resets))
        life = rep["battery_life_h"]
        lines.append("power: average %.3f mA -> %s on %d mAh" % (
            rep["avg_ma"], "%.1f h" % life if life else "n/a", rep["battery_mah"]))
        lines.append("  states: " + ", ".join("%s %.2f%%" % (s, 100 * f)
                                              for s, f in rep["state_fraction"].items()))
        adders = ", ".join("%s %.4f" % kv for kv in rep["adder_mah"].items() if kv[1])
        lines.append("  parts (mAh): " + (adders or "none"))
        if w.battery is not None:
            lines.append("battery: " + w.battery.describe())
        st = self.part_status()
        if st:
            lines.append("sensors: " + ", ".join("%s %s" % kv for kv in sorted(st.items())))
        if self.board is not None and self.board.missing:
            lines.append("missing parts: " + ", ".join(sorted(self.board.missing)))
        lines.append("link: " + self.link_state())
        if self.sched is not None:
            lines.append("%-12s %-9s %4s %8s %9s %9s" % ("task", "state", "prio", "runs",
                                                          "run ms", "worst us"))
            for name, state, prio, runs, run_us, worst, _r in self.sched.stats():
                lines.append("%-12s %-9s %4d %8d %9.1f %9d" % (name, state, prio, runs,
                                                              run_us / 1000, worst))
        lines.append("seed %d" % self.seed)
        return "\n".join(lines)


def _detach_ble():
    import sys
    mod = sys.modules.get("sim.mirror.bluetooth")
    if mod is not None:
        mod.detach()


def default_out_dir():
    return os.path.join(_boards.ROOT, "sim-out")


def main(*args, **kw):
    """`glasses sim`: see sim/sim_main.py (the glasses with their host, live view, --fast)."""
    from sim.sim_main import main as _main
    return _main(*args, **kw)
