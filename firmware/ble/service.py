# The link to the phone, as a feature of the app: the GATT peripheral (gatt.py), the
# glasses' endpoint on it (link.py), and the commands every phone may send: status,
# forget, log streaming. start(app) returns the LinkService (app.link); other features
# add their own routes on it.
import machine
from micropython import const

from firmware import version
from firmware.protocol import kinds
from firmware.protocol.channels import CONTROL, EVENTS, LOG
from firmware.ble.gatt import GattPeripheral
from firmware.ble.link import LinkService
from firmware.runtime import sched as _s
from firmware.runtime.log import INFO, format_record

CAPS = ("rpc", "notify", "voice", "ota", "logs")
_LOG_BATCH = const(4)  # log records sent per wake, so logs never crowd out the rest
_LINK_STATS = ("state", "rtt_ms", "retransmits", "duplicates", "bad_frames", "audio_dropped",
               "audio_lost", "goodput_in", "goodput_out", "connects")


def device_name(uid):
    """Glasses-XXXX from the last two bytes of the chip's unique id."""
    tail = uid[-2:] if len(uid) >= 2 else b"\x00\x00"
    return "Glasses-%02X%02X" % (tail[0], tail[1])


class LinkCommands:
    """Answers status / forget / logs from the phone."""

    def __init__(self, app, link, gatt):
        self.app = app
        self.link = link
        self.gatt = gatt
        self.log_on = False
        self.log_level = INFO
        self._log_seq = None
        link.route(kinds.STATUS_REQ, self.on_status)
        link.route(kinds.FORGET, self.on_forget)
        link.route(kinds.LOGS, self.on_logs)

    def status(self):
        app = self.app
        b = app.board
        st = {"firmware": version.VERSION, "board": b.name, "battery": self.gatt.battery,
              "missing": sorted(b.missing), "uptime_ms": app.uptime_ms()}
        for name, fn in app.status_sources.items():
            try:
                st[name] = fn()
            except Exception as e:
                st[name] = "error: %s" % e
        ls = self.link.session.stats()
        g = self.gatt
        st["link"] = {k: ls[k] for k in _LINK_STATS if k in ls}
        st["link"]["mtu"] = g.mtu
        st["link"]["bonds"] = g.bonds.count()
        st["link"]["tx_full"] = g.tx_full
        return st

    def on_status(self, msg):
        # on the events channel: a status is larger than a control message may be
        self.link.send(EVENTS, {kinds.K: kinds.STATUS, 1: self.status()})

    def on_forget(self, msg):
        self.link.send(CONTROL, {kinds.K: kinds.RESULT, 1: kinds.FORGET, 2: True,
                                 3: "bonds forgotten; pair again to reconnect"})
        self.app.log.warn("bonds forgotten at the phone's request")
        # Let the answer go out first: forgetting disconnects the phone.
        self.app.sched.spawn(self._forget_soon, name="forget", prio=_s.PRIO_LINK)

    async def _forget_soon(self):
        await _s.sleep_ms(100)
        self.gatt.forget_bonds()

    def on_logs(self, msg):
        self.log_on = bool(msg.get(1))
        lvl = msg.get(2)
        if isinstance(lvl, int):
            self.log_level = lvl
        self._log_seq = None
        self.link.wake.set()

    async def stream_logs(self):
        """While the phone asked for them, send new log records on the LOG channel."""
        log = self.app.log
        while True:
            await _s.sleep_ms(200)
            if not (self.log_on and self.link.up):
                continue
            n = 0
            for seq, tick, level, msg, a, b in log.records(self._log_seq):
                self._log_seq = seq
                if level < self.log_level:
                    continue
                text = format_record(tick, level, msg, a, b)
                if not self.link.send(LOG, {kinds.K: kinds.LOG, 1: seq, 2: tick, 3: level,
                                            4: text}):
                    break
                n += 1
                if n >= _LOG_BATCH:
                    break


def start(app):
    """GATT + session + the phone's commands (the board has a radio and a flash store:
    firmware/app.py checks). Returns the LinkService."""
    b = app.board
    uid = machine.unique_id()
    gatt = GattPeripheral(b.ble, app.sched, b.store, device_name(uid), b.name,
                          version.VERSION, uid, log=app.log)
    link = LinkService(app.sched, gatt, version.VERSION, b.name, CAPS, log=app.log)
    app.gatt = gatt
    if not b.has("lightsleep_connected"):
        # Stock MicroPython loses a BLE connection in lightsleep (micropython#6396): the
        # board idles awake (modem sleep) while a central is connected. docs/power.md
        gatt.on_connection = lambda up: b.stay_awake("ble", up)
    cmds = LinkCommands(app, link, gatt)
    sched = app.sched
    sched.spawn(gatt.run, name="gatt", prio=_s.PRIO_LINK, restart=_s.RESTART_ON_ERROR)
    sched.spawn(link.run, name="link", prio=_s.PRIO_LINK, restart=_s.RESTART_ON_ERROR)
    sched.spawn(cmds.stream_logs, name="logs", prio=_s.PRIO_BACKGROUND,
                restart=_s.RESTART_ON_ERROR)
    app.on("battery", lambda soc, v, chg, t: gatt.set_battery(soc))
    return link
