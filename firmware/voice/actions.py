# What an answer asks the glasses to do (host_tools/voice/builtin.py lists them), and the
# state the phone needs back in the next "ask" (timers, volume):
#
#   timer {seconds}            a timer (timers.py: at most 4)
#   timer_cancel {seconds?}    the timer of that length, or all of them
#   reminder {seconds, text}   said at its time ("Reminder: ..."); if the phone is away
#                              then, said when it is back (a reminder never goes silent)
#   volume {level}             the speaker's volume 0..10, kept in flash across reboots
#
# Timers and reminders are kept in flash with their wall-clock due times (the app's Wall,
# firmware/runtime/wall.py) whenever they change. At the next boot those still to come
# run on; those that fell due while the glasses were off are said once, late, saying so
# ("Reminder, 25 minutes late: call Ana"). After a power-on the time is unknown until the
# phone's TIME: they wait for it.
#   stop                       stop playing
#   notify {do}                read / clear / yes / no / dismiss on the latest
#                              notification: the notify feature hears it as a gesture
#                              through the app's "voice_action" event
from micropython import const

from firmware.voice.timers import Timers, done_text, late_text

VOLUME_MAX = const(10)
_GAIN_Q8 = (0, 8, 13, 20, 32, 45, 64, 90, 128, 181, 256)  # 3 dB a step, 10 = unity
_STORE_NAME = "voice_volume"
_TIMERS = "voice_timers"
_MAX_LATE = const(4)  # reminders waiting for the phone


class Actions:
    def __init__(self, voice, store=None, volume=8):
        self.voice = voice
        self.store = store
        self.timers = Timers(voice.clock)
        self.late = []  # reminder texts due while the phone was away
        self.volume = self._load(volume)
        voice.playback.gain = _GAIN_Q8[self.volume]
        self.restored = 0  # timers brought back from flash
        self.missed = 0  # ... that fell due while the glasses were off
        self._restore()

    # ---- timers in flash --------------------------------------------------------------
    def _wall(self):
        return getattr(self.voice.app, "wall", None)

    def _save(self):
        st = self.store
        if st is None:
            return
        w = self._wall()
        now = w.now_s() if w is not None else None
        try:
            if now is None:  # no wall time: nothing that could be restored
                if self.timers.items:
                    self.voice.log.info("voice: timers not kept in flash: the time is "
                                        "not known yet")
                st.remove(_TIMERS)
            else:
                st.write_cbor(_TIMERS, [[now + t[0], t[1], t[2]]
                                        for t in self.timers.export()])
        except OSError as e:
            self.voice.log.warn("voice: timers not saved: %s", str(e))

    def _restore(self):
        st = self.store
        if st is None:
            return
        rec = st.read_cbor(_TIMERS)
        if not isinstance(rec, list) or not rec:
            return
        w = self._wall()
        if w is None:
            return
        w.on_known(lambda: self._resolve(rec, w.now_s()))

    def _resolve(self, rec, now):
        """The timers kept in flash, now that the time is known."""
        late = []
        for item in rec:
            if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], int)):
                continue
            due, sec, text = item
            if due > now:
                if self.timers.add(sec, text, left_s=due - now):
                    self.restored += 1
            else:
                self.missed += 1
                late.append(late_text(sec, text, now - due))
        self._save()
        for t in late:
            self._keep(t)
        if late:
            self.voice.log.info("voice: %d timers fell due while the glasses were off",
                                len(late))
            if self.voice._link_up():
                self.say_late()

    def _load(self, default):
        v = default
        if self.store is not None:
            try:
                data = self.store.read(_STORE_NAME)
            except OSError:
                data = None
            if data is not None and len(data) == 1 and data[0] <= VOLUME_MAX:
                v = data[0]
        return v if 0 <= v <= VOLUME_MAX else 8

    def set_volume(self, level):
        if not isinstance(level, int) or not 0 <= level <= VOLUME_MAX:
            return False
        self.volume = level
        self.voice.playback.gain = _GAIN_Q8[level]
        if self.store is not None:
            try:
                self.store.write(_STORE_NAME, bytes((level,)))
            except OSError as e:
                self.voice.log.warn("voice: volume not saved:", str(e))
        return True

    def apply(self, act):
        t = act.get("type")
        v = self.voice
        if t == "timer":
            if not self.timers.add(act.get("seconds")):
                v.log.warn("voice: timer refused", act.get("seconds"))
            self._save()
        elif t == "timer_cancel":
            n = self.timers.cancel(act.get("seconds"))
            v.log.info("voice: timers cancelled", n)
            self._save()
        elif t == "reminder":
            text = act.get("text")
            if not isinstance(text, str) or not self.timers.add(act.get("seconds"), text[:96]):
                v.log.warn("voice: reminder refused", act.get("seconds"))
            self._save()
        elif t == "volume":
            if not self.set_volume(act.get("level")):
                v.log.warn("voice: volume refused", act.get("level"))
        elif t == "stop":
            v.playback.stop()
        v.app.emit("voice_action", act)

    def state(self):
        """For the phone's next ask: [[seconds left, length s], ...] of the timers (not the
        reminders) and the volume."""
        return self.timers.left(), self.volume

    def fire(self):
        """Timers and reminders whose time came: the chime, then what to say."""
        v = self.voice
        due = self.timers.take_due()
        if due:
            self._save()
        for sec, text in due:
            if v.muted:
                continue
            v.playback.play_chime(3)  # chimes.NOTIFICATION
            say = text if text else done_text(sec)
            if text and not v._link_up():
                v.log.info("voice: reminder kept until the phone is back")
                self._keep(text)
            elif not v.say(say) and text:
                self._keep(text)

    def _keep(self, text):
        if len(self.late) >= _MAX_LATE:
            self.late.pop(0)
        self.late.append(text)

    def say_late(self):
        """The phone is back: reminders that came due meanwhile, now."""
        while self.late:
            if not self.voice.say(self.late[0]):
                return
            self.late.pop(0)
