# The link to the phone, as a feature of the app: the GATT peripheral (gatt.py), the
# glasses' endpoint on it (link.py), the commands every phone may send (status, forget
# this phone or all, log streaming), and the pairing window as the wearer sees it: a
# chime and a fast-blinking LED while it is open (docs/security.md). start(app) returns
# the LinkService (app.link); other features add their own routes on it.
#
# Settings (app config): ble_secure_ms (a central must be authorised this soon after
# connecting, default 5000), ble_pairing_window_s (how long the gesture opens the window,
# default 60).
import machine
from micropython import const

from firmware import version
from firmware.protocol import kinds
from firmware.protocol.channels import CONTROL, EVENTS, LOG, MessageTooLarge
from firmware.ble.consent import Consent
from firmware.ble.gatt import GattPeripheral
from firmware.ble.link import LinkService
from firmware.runtime import cbor
from firmware.runtime import sched as _s
from firmware.runtime.log import INFO, format_record
from firmware.runtime.sync import Event

CAPS = ("rpc", "notify", "voice", "ota", "logs")
_LOG_BATCH = const(4)  # log records sent per wake, so logs never crowd out the rest
_TEXT_MAX = const(60)  # a text in a status that must be shortened to fit its channel
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
        self._log_wanted = Event()  # set while the phone wants logs and the link is up
        link.route(kinds.STATUS_REQ, self.on_status)
        link.route(kinds.FORGET, self.on_forget)
        link.route(kinds.LOGS, self.on_logs)
        link.on("up", lambda up: self._logs_check())

    def status(self):
        app = self.app
        b = app.board
        st = {"firmware": version.VERSION, "board": b.name, "battery": self.gatt.battery,
              "missing": sorted(b.missing), "uptime_ms": app.uptime_ms(),
              "log_seq": app.log.seq}  # the next record's number: the backlog ends before
        for name, fn in app.status_sources.items():
            try:
                st[name] = fn()
            except Exception as e:
                st[name] = "error: %s" % e
        ls = self.link.session.stats()
        g = self.gatt
        lk = st["link"] = {k: ls[k] for k in _LINK_STATS if k in ls}
        lk["mtu"] = g.mtu
        lk["bonds"] = len(g.bonds.peers())
        lk["tx_full"] = g.tx_full
        lk["phones"] = [{"name": n, "seen_s": None if ms is None else ms // 1000,
                         "linked": on} for n, ms, on in self.link.phone_list()]
        c = g.access.consent
        lk["pairing"] = {"open": g.access.window_open(), "left_s": c.left_ms() // 1000}
        lk["refused"] = dict(c.counts)
        lk["refused"]["writes"] = g.rx_refused
        return st

    def on_status(self, msg):
        # on the events channel: a status is larger than a control message may be
        st = self.status()
        try:
            self.link.send(EVENTS, {kinds.K: kinds.STATUS, 1: st})
        except MessageTooLarge:  # long fault texts: the log has them whole
            st = _shortened(st, 3)
            cut = []
            for _ in range(len(st)):  # then the largest sections go, named in "cut"
                try:
                    self.link.send(EVENTS, {kinds.K: kinds.STATUS, 1: st})
                    return
                except MessageTooLarge:
                    big = _largest(st)
                    if big is None:
                        raise
                    del st[big]
                    cut.append(big)
                    st["cut"] = cut

    def on_forget(self, msg):
        every = msg.get(1) == kinds.FORGET_ALL
        key = None if every else self.link.owner
        if not every and key is None:
            self.link.send(CONTROL, {kinds.K: kinds.RESULT, 1: kinds.FORGET, 2: False,
                                     3: "this phone has no bond the glasses know"})
            return
        self.link.send(CONTROL, {kinds.K: kinds.RESULT, 1: kinds.FORGET, 2: True,
                                 3: "bonds forgotten for %s; pair again to reconnect"
                                 % ("every phone" if every else "this phone")})
        self.app.log.warn("bonds forgotten for every phone at a phone's request" if every
                          else "bonds forgotten for the phone that asked")
        # Let the answer go out first: forgetting disconnects the phone.
        self.app.sched.spawn(self._forget_soon, key, name="forget", prio=_s.PRIO_LINK)

    async def _forget_soon(self, key):
        await _s.sleep_ms(100)
        self.gatt.forget_bonds(key)

    def on_logs(self, msg):
        self.log_on = bool(msg.get(1))
        lvl = msg.get(2)
        if isinstance(lvl, int):
            self.log_level = lvl
        self._log_seq = None
        self._logs_check()
        self.link.wake.set()

    def _logs_check(self):
        if self.log_on and self.link.up:
            self._log_wanted.set()

    async def stream_logs(self):
        """While the phone asked for them, send new log records on the LOG channel (every
        200 ms); otherwise wait without waking until it asks again (docs/power.md)."""
        log = self.app.log
        while True:
            if not (self.log_on and self.link.up):
                self._log_wanted.clear()
                await self._log_wanted.wait()
                continue
            await _s.sleep_ms(200)
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


def _shortened(v, depth):
    """The status with every text cut to _TEXT_MAX characters (nested at most `depth`)."""
    if isinstance(v, str) and len(v) > _TEXT_MAX:
        return v[:_TEXT_MAX - 3] + "..."
    if depth > 0 and isinstance(v, dict):
        return {k: _shortened(x, depth - 1) for k, x in v.items()}
    if depth > 0 and isinstance(v, list):
        return [_shortened(x, depth - 1) for x in v]
    return v


def _largest(st):
    """The name of the status's largest section (a dict), or None."""
    best, size = None, 0
    for k, v in st.items():
        if isinstance(v, dict):
            n = len(cbor.dumps(v))
            if n > size:
                best, size = k, n
    return best


def _pairing(app, open_, why):
    """The wearer sees and hears the window: a chime, the LED blinking fast while open."""
    v = app.voice
    if app.leds is not None:
        app.leds.override("pairing" if open_ else None)
    if open_:
        app.log.warn("pairing window open (%s): a new phone may pair", why)
        if v is not None:
            v.chime("pairing")
    else:
        app.log.info("pairing window closed (%s)", why)
        if v is not None and why == "bonded":
            v.chime("paired")


def start(app):
    """GATT + session + the phone's commands (the board has a radio and a flash store:
    firmware/app.py checks). Returns the LinkService."""
    b = app.board
    c = app.config
    uid = machine.unique_id()
    consent = Consent(app.sched.clock, window_ms=c.get("ble_pairing_window_s", 60) * 1000,
                      secure_ms=c.get("ble_secure_ms", 5000))
    gatt = GattPeripheral(b.ble, app.sched, b.store, device_name(uid), b.name,
                          version.VERSION, uid, log=app.log, consent=consent)
    link = LinkService(app.sched, gatt, version.VERSION, b.name, CAPS, log=app.log)
    app.gatt = gatt
    if not b.has("lightsleep_connected"):
        # Stock MicroPython loses a BLE connection in lightsleep (micropython#6396): the
        # board idles awake (modem sleep) while a central is connected. docs/power.md
        gatt.on("connection", lambda up: b.stay_awake("ble", up))
    gatt.access.on("forgotten", link.forget_phone)
    gatt.access.on("pairing", lambda open_, why: _pairing(app, open_, why))
    if gatt.access.window_open():  # out of the box: no phone yet
        _pairing(app, True, "no phones")
    cmds = LinkCommands(app, link, gatt)
    sched = app.sched
    sched.spawn(gatt.run, name="gatt", prio=_s.PRIO_LINK, restart=_s.RESTART_ON_ERROR)
    sched.spawn(link.run, name="link", prio=_s.PRIO_LINK, restart=_s.RESTART_ON_ERROR)
    sched.spawn(cmds.stream_logs, name="logs", prio=_s.PRIO_BACKGROUND,
                restart=_s.RESTART_ON_ERROR)
    app.on("battery", lambda soc, v, chg, t: gatt.set_battery(soc))
    return link
