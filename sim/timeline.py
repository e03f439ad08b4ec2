"""A picture of a run: `glasses sim --plot run.png`.

A Timeline follows one SimGlasses. Once per simulated second it samples the battery
(state of charge, volts), the current drawn over that second (split by power state, and
the parts' own currents on top), the link (up or down on the glasses' side) and the
link's retransmissions. From the event log (World.watchers) it takes what happened:
voice queries (what was heard, the answer, how long the phone took), notifications (how
each was presented: read in full, title spoken, chime and haptic, kept waiting), and
faults (warnings and errors of the firmware, parts failing, resets) and recoveries.

    t = Timeline(glasses).start()      # before or after the boot: it samples from now
    ...                                # the run
    t.draw("run.png")                  # matplotlib, no display needed (Agg)

Sampling runs in the world's loop (world.call_later_us), in virtual and in real time.
"""
import re

PANELS = ("battery", "current by power state", "link", "voice queries",
          "notifications and faults")

_HEARD = re.compile(r"voice: heard (.*) -> (.*), ([0-9.]+) s after the glasses asked")
_NOTIFIED = re.compile(r"notification from (.*?): (.*)$")
_FW = re.compile(r"\s*-?\d+ (INFO|WARN|ERROR|DEBUG)\s+(.*)$")
_PART_FAULT = re.compile(r"(\w+): (stops answering.*|.*fault injected.*)$")


class Timeline:
    def __init__(self, glasses, period_s=1.0, max_samples=200000):
        self.g = glasses
        self.period_us = int(period_s * 1e6)
        self.max_samples = max_samples  # a day of seconds, and more: bounded all the same
        self.t = []  # sample times (s)
        self.soc = []  # % (None without a battery model)
        self.volts = []
        self.state_ma = {}  # power state -> average mA over each sample's second
        self.parts_ma = []
        self.link_up = []
        self.retransmits = []  # per sample period
        self.queries = []  # (t, heard, answer, latency s)
        self.notifications = []  # (t, app, how)
        self.faults = []  # (t, text)
        self.recoveries = []  # (t, text): a faulty part answering again
        self.pairing = []  # (t, text): the pairing window opening and closing
        self._last = None  # (t_us, state charge, adder charge, retransmits)
        self._handle = None

    # ---- recording ---------------------------------------------------------------------
    def start(self):
        w = self.g.world
        w.watchers.append(self._note)
        self._sample()
        return self

    def stop(self):
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        w = self.g.world
        if self._note in w.watchers:
            w.watchers.remove(self._note)

    def _sample(self):
        w = self.g.world
        p = w.power
        p.elapsed_us()  # brings the meter's charge up to now
        now = w.now_us()
        states = dict(p.state_charge)
        parts = sum(p.adder_charge.values())
        rtx = self._retransmits()
        if self._last is not None and len(self.t) < self.max_samples:
            t0, st0, pa0, rtx0 = self._last
            dt = now - t0
            if dt > 0:
                self.t.append(now / 1e6)
                for s, q in states.items():
                    self.state_ma.setdefault(s, []).append((q - st0.get(s, 0.0)) / dt)
                self.parts_ma.append((parts - pa0) / dt)
                b = w.battery
                self.soc.append(b.soc * 100 if b is not None else None)
                self.volts.append(b.voltage() if b is not None else None)
                self.link_up.append(1 if self._link_up() else 0)
                self.retransmits.append(max(0, rtx - rtx0))
        self._last = (now, states, parts, rtx)
        self._handle = w.call_later_us(self.period_us, self._sample)

    def _link_up(self):
        app = self.g.app
        link = app.link if app is not None else None
        return link is not None and link.up

    def _retransmits(self):
        app = self.g.app
        link = app.link if app is not None else None
        if link is None:
            return self._last[3] if self._last is not None else 0
        return link.session.retransmits

    def _note(self, t, source, text):
        if source == "host":
            m = _HEARD.search(text)
            if m:
                self.queries.append((t, _unquote(m.group(1)), _unquote(m.group(2)),
                                     float(m.group(3))))
            elif "failed" in text and text.startswith("voice:"):
                self.faults.append((t, text))
            return
        if source == "fw":
            m = _FW.match(text)
            if m is None:
                return
            level, msg = m.groups()
            n = _NOTIFIED.match(msg)
            if n:
                self.notifications.append((t, n.group(1), n.group(2)))
            elif msg.startswith("pairing window"):
                self.pairing.append((t, msg))
            elif level in ("WARN", "ERROR"):
                self.faults.append((t, msg))
            elif " recovered after " in msg:
                self.recoveries.append((t, msg))
            return
        if source == "part":
            m = _PART_FAULT.match(text)
            if m:
                self.faults.append((t, "%s %s" % m.groups()))
            return
        if source == "hw" and ("watchdog" in text or text.startswith("boot #")):
            self.faults.append((t, text))

    # ---- the picture --------------------------------------------------------------------
    def draw(self, path, title=None):
        """Write the PNG; returns the panels' titles (PANELS)."""
        import matplotlib
        matplotlib.use("Agg")  # no display: a file
        from matplotlib import pyplot as plt

        fig, axes = plt.subplots(len(PANELS), 1, sharex=True, figsize=(12, 13),
                                 gridspec_kw={"height_ratios": (2, 2, 1.2, 2, 2)})
        try:
            self._battery(axes[0])
            self._current(axes[1])
            self._link(axes[2])
            self._voice(axes[3])
            self._events(axes[4])
            for ax, name in zip(axes, PANELS):
                ax.set_title(name, loc="left", fontsize=10)
                ax.grid(True, alpha=0.3)
            axes[-1].set_xlabel("simulated seconds")
            end = self.t[-1] if self.t else 1.0
            axes[-1].set_xlim(0, max(end, 1.0))
            fig.suptitle(title or self._title(), fontsize=11)
            fig.tight_layout()
            fig.savefig(path, dpi=90)
            return [ax.get_title(loc="left") for ax in axes]
        finally:
            plt.close(fig)

    def _title(self):
        w = self.g.world
        return "%s, seed %d, %.0f simulated s" % (w.name, self.g.seed, w.now_s())

    def _battery(self, ax):
        pts = [(t, s, v) for t, s, v in zip(self.t, self.soc, self.volts) if s is not None]
        if not pts:
            ax.text(0.5, 0.5, "no battery model on this board", transform=ax.transAxes,
                    ha="center")
            return
        ax.plot([p[0] for p in pts], [p[1] for p in pts], color="tab:green")
        ax.set_ylabel("charge %")
        ax.set_ylim(0, 100)
        v = ax.twinx()
        v.plot([p[0] for p in pts], [p[2] for p in pts], color="tab:gray", linewidth=0.8)
        v.set_ylabel("volts")
        v.set_ylim(3.0, 4.3)  # a Li-ion cell's range: noise stays small, a sag shows

    def _current(self, ax):
        names = [s for s in ("active", "idle", "lightsleep", "deepsleep")
                 if any(self.state_ma.get(s, ()))]
        series = [self.state_ma[s] for s in names] + [self.parts_ma]
        if self.t:
            ax.stackplot(self.t, *series, labels=names + ["parts (radio, mic, ...)"],
                         step="pre", alpha=0.8)
            ax.legend(loc="upper right", fontsize=8, ncol=len(series))
        ax.set_ylabel("mA")

    def _link(self, ax):
        if self.t:
            ax.fill_between(self.t, self.link_up, step="pre", color="tab:blue", alpha=0.4,
                            label="link up")
        ax.set_ylim(0, 1.2)
        ax.set_yticks([0, 1], ["down", "up"])
        r = ax.twinx()
        if self.t:
            r.bar(self.t, self.retransmits, width=0.8, color="tab:red",
                  label="retransmissions / s")
        r.set_ylabel("retransmits / s")
        r.set_ylim(0, max([1] + self.retransmits) * 1.2)
        for (t, text), dy in zip(self.pairing, _stagger(self.pairing)):
            ax.annotate(_short(text, 40), (t, 1.0), fontsize=7, xytext=(2, -12 - dy),
                        textcoords="offset points")

    def _voice(self, ax):
        if not self.queries:
            ax.text(0.5, 0.5, "no voice queries", transform=ax.transAxes, ha="center")
        for t, heard, answer, lat in self.queries:
            ax.vlines(t, 0, lat, color="tab:purple")
            ax.plot([t], [lat], "o", color="tab:purple")
            ax.annotate(_short(heard) + "\n-> " + _short(answer), (t, lat), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
        top = max([1.0] + [q[3] for q in self.queries])
        ax.set_ylim(0, top * 1.6)
        ax.set_ylabel("answer s")

    def _events(self, ax):
        colours = {"read in full": "tab:orange", "title spoken": "tab:olive",
                   "chime and haptic": "tab:cyan"}
        for (t, app, how), dy in zip(self.notifications, _stagger(self.notifications)):
            ax.plot([t], [1], "s", color=colours.get(how, "tab:gray"))
            ax.annotate("%s: %s" % (app, how), (t, 1), fontsize=7, xytext=(3, 4 + dy),
                        textcoords="offset points")
        for (t, text), dy in zip(self.faults, _stagger(self.faults)):
            ax.plot([t], [0], "x", color="tab:red")
            ax.annotate(_short(text, 44), (t, 0), fontsize=7, xytext=(3, 4 + dy),
                        textcoords="offset points")
        for t, text in self.recoveries:
            ax.plot([t], [0], "o", color="tab:green")
            ax.annotate(_short(text, 30), (t, 0), fontsize=7, xytext=(3, -10),
                        textcoords="offset points")
        ax.set_ylim(-0.6, 1.8)
        ax.set_yticks([0, 1], ["faults", "notifications"])


def _stagger(events, within_s=4.0, step=9, levels=4):
    """Vertical offsets (points) for the labels of events close in time: each one close
    to the one before goes a line higher (wrapping after `levels`)."""
    out = []
    last = None
    k = 0
    for e in events:
        k = (k + 1) % levels if last is not None and e[0] - last < within_s else 0
        out.append(k * step)
        last = e[0]
    return out


def _unquote(s):
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        return s[1:-1]
    return s


def _short(s, n=36):
    return s if len(s) <= n else s[:n - 1] + "\u2026"
