# Updates over the air, as a service of the app: the phone's OTA messages (kinds.py
# 40..46, docs/ota.md) drive the Receiver (firmware/ota/receiver.py) in one task, and the
# running firmware's trial is ended here (healthy) or cut short (a reset that counts).
#
# - Every OTA message from the phone comes on the FILE channel. Its handler queues it and
#   keeps its credit (returns False) until the task is done with it and its answer is
#   queued, so the phone can never have more messages waiting here than the channel's
#   window; an answer the FILE outbox cannot take yet waits for room (none is dropped).
# - Work that hashes or checks a signature runs as generator steps with a scheduler yield
#   between them: the link, audio and sensors keep running during an update.
# - Health: a copy on trial is confirmed (boot.mark_healthy) once it has run ota_healthy_s
#   and, on a board with a radio, the link to the phone is up (an update that cannot
#   reach the phone could never be fixed over the air). A trial copy with a radio that
#   has not brought the link up within ota_trial_s resets, so the bootloader counts the
#   boot and rolls back after MAX_TRIAL_BOOTS. A board without a radio is confirmed after
#   ota_healthy_s running.
# - A package whose security counter is below what the glasses ran healthy with (a
#   downgrade: boot.security_floor) is refused, and the wearer is asked: a double tap
#   within DOWNGRADE_ASK_MS allows that one package, which the phone then sends again.
# - Board options (board DATA["options"]): ota_public_key (32 bytes or 64 hex digits:
#   packages must carry a good Ed25519 signature), ota_needs_charging (refuse unless on
#   the charger; also a board capability of that name), ota_bytes (flash set aside for
#   the update slots).

from micropython import const

from firmware import version
from firmware.protocol import kinds
from firmware.protocol.channels import CONTROL, FILE, WINDOW, LinkError
from firmware.ota import boot, policy
from firmware.ota.manifest import ManifestError
from firmware.ota.receiver import AlreadyInstalled, Downgrade, OtaError, OtaRefused, Receiver
from firmware.runtime import sched as _s
from firmware.runtime.sync import Flag, Queue

DEFAULTS = {
    "ota_min_battery_pct": 20,  # refuse below this unless charging
    "ota_healthy_s": 10,  # a trial copy must run this long (with the link up) to be kept
    "ota_trial_s": 120,  # a trial copy with a radio and no link by then resets
    "ota_reboot_ms": 2000,  # most time to wait for OTA_DONE to be acknowledged
}
MAX_PACKAGE_BYTES = const(32768)  # the envelope (manifest + signature), held in RAM
DOWNGRADE_ASK_MS = const(30000)  # how long a double tap allows an older package
_HEALTH_POLL_MS = const(500)
_K = kinds.K


def _reset():
    import machine  # here: imported only when the board really restarts
    machine.reset()


def parse_key(value):
    """(32-byte key or None, error text or None) from a board option."""
    if value is None:
        return None, None
    if isinstance(value, str):
        try:
            import binascii
            value = binascii.unhexlify(value)
        except (ValueError, TypeError):
            return None, "ota_public_key is not hex"
    if not isinstance(value, (bytes, bytearray)) or len(value) != 32:
        return None, "ota_public_key must be 32 bytes (64 hex digits)"
    return bytes(value), None


class OtaService:
    def __init__(self, app):
        self.app = app
        b = app.board
        self.board = b
        self.root = b.fs_root
        self.link = app.link
        self.log = app.log
        self.clock = app.sched.clock
        c = app.config
        self.cfg = {}
        for k, v in DEFAULTS.items():
            self.cfg[k] = c.get(k, v)
        key, self.key_error = parse_key(b.options.get("ota_public_key"))
        self.rx = Receiver(self.root, can_update=self.can_update, public_key=key,
                           free_bytes=self.free_bytes, board=b.name,
                           security=version.SECURITY, downgrade_ok=self._downgrade_ok)
        self._asked = None  # the digest of a downgrade the wearer is asked about
        self._ask_until = 0
        self._allowed = None  # ... and of the one the wearer allowed
        self.q = Queue(WINDOW[FILE])
        self.room = Flag(app.sched)
        self.env = None  # the package envelope being received
        self.env_held = 0
        self.tag = None  # the phone's attempt tag, echoed in OTA_STATE
        self.phase = "staged" if self.rx.m is not None else "idle"
        self.t0 = self.clock.ticks_ms()
        self.counts = {"begun": 0, "chunks": 0, "refused": 0, "errors": 0, "switched": 0}
        self.last_error = None
        self.reset = _reset  # how the board restarts (tests record it instead)
        if self.link is not None:
            for k in (kinds.OTA_BEGIN, kinds.OTA_CHUNK, kinds.OTA_FINISH):
                self.link.route(k, self._on_message)
            self.link.on("up", self._on_link)
            self.link.on("room", self._on_room)

    # ---- policy (policy.py) ---------------------------------------------------------------
    def can_update(self):
        return policy.can_update(self)

    def free_bytes(self):
        return policy.free_bytes(self)

    # ---- a downgrade, with the wearer's consent ----------------------------------------------
    def _ask_downgrade(self, digest):
        """A package below the security counter came: ask the wearer, who may allow this
        package with a double tap within DOWNGRADE_ASK_MS (then the phone sends it again)."""
        self._asked = digest
        self._ask_until = self.clock.ticks_add(self.clock.ticks_ms(), DOWNGRADE_ASK_MS)
        v = self.app.voice
        if v is not None:
            v.say("An older firmware wants to install. Double tap to allow it.")

    def asking(self):
        """Is the wearer being asked about a downgrade now (a double tap answers)?"""
        c = self.clock
        return self._asked is not None and c.ticks_diff(self._ask_until, c.ticks_ms()) > 0

    def allow_downgrade(self):
        """The wearer's double tap: the package asked about may install (once)."""
        if not self.asking():
            return False
        self._allowed = self._asked
        self._asked = None
        self.log.warn("ota: the wearer allowed a downgrade")
        v = self.app.voice
        if v is not None:
            v.chime("confirm")
        return True

    def _downgrade_ok(self, digest):
        if self._allowed is not None and self._allowed == digest:
            self._allowed = None
            return True
        return False

    # ---- from the link ------------------------------------------------------------------
    def _on_message(self, msg):
        if self.link.rx_ch != FILE:
            self._send(CONTROL, {_K: kinds.OTA_STATE, 1: None, 3: "error",
                                 2: "update messages go on the file channel"})
            return True
        if self.q.full():  # the window bounds the queue; a peer past it broke the protocol
            self.counts["errors"] += 1
            self.log.error("ota: message past the file channel's window dropped")
            return True
        self.q.put_nowait(msg)
        return False  # its credit comes back when the task is done with it

    def _on_room(self, ch):
        if ch == FILE:
            self.room.set()

    def _on_link(self, up):
        if up:
            self.report()

    # ---- answers ------------------------------------------------------------------------
    def _send(self, ch, msg):
        try:
            return self.link.send(ch, msg)
        except LinkError as e:
            self.log.error("ota: answer not sent", e)
            return True

    async def _reply(self, msg):
        """Queue an answer on FILE, waiting for room if the outbox is full (the phone is
        held back meanwhile: the message being answered still holds its credit)."""
        while True:
            self.room.clear()
            if self._send(FILE, msg):
                return
            await self.room.wait(1000)  # EV_ROOM follows a refused send

    def status(self):
        st = boot.read_state(self.root)
        d = {"phase": self.phase, "copy": st[0], "version": version.VERSION,
             "on_trial": st[2], "trial_boots": st[3], "previous": st[5], "event": st[6]}
        if self.rx.m is not None:
            held, total = self.rx.held_bytes()
            d["staged"] = self.rx.version
            d["held"] = held
            d["total"] = total
        if self.last_error:
            d["error"] = self.last_error
        return d

    def report(self):
        """Tell the phone which copy runs and what happened last (CONTROL channel)."""
        if self.link is None or not self.link.up:
            return
        self._send(CONTROL, {_K: kinds.OTA_REPORT, 1: self.status()})

    # ---- the task -----------------------------------------------------------------------
    async def run(self):
        while True:
            msg = await self.q.get()
            try:
                k = msg.get(_K)
                if k == kinds.OTA_BEGIN:
                    await self._begin_piece(msg)
                elif k == kinds.OTA_CHUNK:
                    await self._chunk(msg)
                else:
                    await self._finish()
            finally:
                try:
                    self.link.consumed(FILE)
                except LinkError:  # the session started over (the phone restarted)
                    pass
            # One message per slice: a queued window (WINDOW[FILE] chunks, each a flash
            # append and an answer) must not run as one long slice in front of the audio
            # tasks, nor leave a window's garbage for one collection.
            await _s.sleep_ms(0)

    async def _state(self, code, offsets=None, reason=None):
        if reason is not None and code != "installed":
            self.last_error = reason
            self.counts["refused" if code == "refused" else "errors"] += 1
            self.log.warn("ota:", code, reason)
        await self._reply({_K: kinds.OTA_STATE, 1: offsets, 2: reason, 3: code, 4: self.tag})

    async def _begin_piece(self, msg):
        size, off, data = msg.get(1), msg.get(2), msg.get(3)
        self.tag = msg.get(4)
        if not isinstance(size, int) or not isinstance(off, int) or \
                not isinstance(data, bytes) or size <= 0:
            self.env = None
            return await self._state("error", reason="malformed OTA_BEGIN")
        if size > MAX_PACKAGE_BYTES:
            self.env = None
            return await self._state("refused", reason="package manifest of %d bytes: the glasses "
                               "take at most %d" % (size, MAX_PACKAGE_BYTES))
        if off == 0:
            self.env = None
            self.env = bytearray(size)
            self.env_held = 0
        if self.env is None or off != self.env_held or len(self.env) != size or \
                off + len(data) > size:
            held = self.env_held if self.env is not None else 0
            self.env = None
            return await self._state("error", reason="package piece at %d, %d held: send the "
                               "package again from 0" % (off, held))
        self.env[off:off + len(data)] = data
        self.env_held += len(data)
        if self.env_held < size:
            return
        env = bytes(self.env)
        self.env = None
        self.phase = "checking"
        out = [None]
        try:
            for _ in self.rx.begin_steps(env, out):
                await _s.sleep_ms(0)
        except AlreadyInstalled as e:
            self.phase = "idle"
            return await self._state("installed", reason=str(e))
        except Downgrade as e:
            self.phase = "staged" if self.rx.m is not None else "idle"
            self._ask_downgrade(e.digest)
            return await self._state("refused", reason=str(e))
        except OtaRefused as e:
            self.phase = "staged" if self.rx.m is not None else "idle"
            return await self._state("refused", reason=str(e))
        except ManifestError as e:
            self.phase = "staged" if self.rx.m is not None else "idle"
            return await self._state("refused", reason="bad package: %s" % e)
        except OSError as e:
            self.phase = "idle"
            return await self._state("error", reason="flash error while staging: %s" % e)
        self.counts["begun"] += 1
        self.phase = "receiving"
        self.last_error = None
        self.log.info("ota: receiving", self.rx.version, "into slot " + self.rx.slot)
        await self._state("ready", offsets=out[0])

    async def _chunk(self, msg):
        i, off, data = msg.get(1), msg.get(2), msg.get(3)
        rx = self.rx
        if not isinstance(i, int) or not isinstance(off, int) or not isinstance(data, bytes):
            return await self._ack(i if isinstance(i, int) else -1, 0, "malformed OTA_CHUNK")
        out = [None]
        try:
            for _ in rx.chunk_steps(i, off, data, out):
                await _s.sleep_ms(0)
        except (OtaError, OSError) as e:
            held = rx.held(i) if rx.m is not None and 0 <= i < len(rx.m[2]) else 0
            return await self._ack(i, held, str(e))
        self.counts["chunks"] += 1
        await self._ack(i, out[0], None)

    async def _ack(self, i, held, err):
        if err is not None:
            self.last_error = err
            self.counts["errors"] += 1
            self.log.warn("ota: chunk refused", err)
        await self._reply({_K: kinds.OTA_ACK, 1: i, 2: held, 3: err})

    async def _finish(self):
        self.phase = "verifying"
        out = [None]
        try:
            for _ in self.rx.finish_steps(out):
                await _s.sleep_ms(0)
        except (OtaError, OSError) as e:
            self.phase = "staged" if self.rx.m is not None else "idle"
            self.last_error = str(e)
            self.counts["errors"] += 1
            self.log.warn("ota: finish failed", e)
            return await self._reply({_K: kinds.OTA_DONE, 1: False, 2: str(e)})
        st = out[0]
        self.phase = "switched"
        self.counts["switched"] += 1
        detail = "switched to slot %s (%s): restarting into it" % (st[0], st[4])
        self.log.info("ota:", detail)
        await self._reply({_K: kinds.OTA_DONE, 1: True, 2: detail})
        self.app.sched.spawn(self._restart, name="ota-restart", prio=_s.PRIO_LINK)

    async def _restart(self):
        """Restart into the new copy once the phone has OTA_DONE (or after a while)."""
        waited = 0
        link = self.link
        while waited < self.cfg["ota_reboot_ms"] and link.pending(FILE):
            await _s.sleep_ms(50)
            waited += 50
        await _s.sleep_ms(50)
        self.reset()

    # ---- health -------------------------------------------------------------------------
    async def health(self):
        """End this copy's trial: confirm it, or reset so the boot counts."""
        st = boot.read_state(self.root)
        if not st[2]:
            return
        radio = self.board.has("ble")
        healthy_ms = self.cfg["ota_healthy_s"] * 1000
        trial_ms = self.cfg["ota_trial_s"] * 1000
        clock = self.clock
        while True:
            await _s.sleep_ms(_HEALTH_POLL_MS)
            ran = clock.ticks_diff(clock.ticks_ms(), self.t0)
            linked = self.link is not None and self.link.up
            if ran >= healthy_ms and (linked or not radio):
                st = boot.mark_healthy(self.root)
                self.log.info("ota:", st[6])
                self.report()
                return
            if radio and ran >= trial_ms:
                self.log.warn("ota: trial copy %s got no link in %d s: reset (trial boot %d)"
                              % (st[0], trial_ms // 1000, st[3]))
                await _s.sleep_ms(20)
                self.reset()
                return


def start(app):
    """The OTA service (the board has a flash store: firmware/app.py checks): routes on
    the link (when there is one) and the trial's end. Returns it (app.ota), or None when
    the update state cannot be read."""
    if app.board.store is None:  # a test's stand-in board
        app.log.warn("ota: no flash store; updates off")
        return None
    try:
        svc = OtaService(app)
    except OSError as e:
        app.log.error("ota: cannot read the update state", e)
        return None
    app.ota = svc
    app.status("ota", svc.status)
    sched = app.sched
    if app.link is not None:
        sched.spawn(svc.run, name="ota", prio=_s.PRIO_BACKGROUND, restart=_s.RESTART_ON_ERROR)
    sched.spawn(svc.health, name="ota-health", prio=_s.PRIO_BACKGROUND)
    return svc
