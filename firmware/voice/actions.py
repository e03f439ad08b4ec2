# What an answer asks the glasses to do (host_tools/voice/builtin.py lists them), and the
# state the phone needs back in the next "ask" (timers, volume):
#
#   timer {seconds}            a timer (timers.py: at most 4)
#   timer_cancel {seconds?}    the timer of that length, or all of them
#   reminder {seconds, text}   said at its time ("Reminder: ..."); if the phone is away
#                              then, said when it is back (a reminder never goes silent)
#   volume {level}             the speaker's volume 0..10, kept in flash across reboots
#   stop                       stop playing
#   notify {do}                read / clear / yes / no / dismiss on the latest
#                              notification: the notify feature hears it as a gesture
#                              through the app's "voice_action" event
from micropython import const

from firmware.voice.timers import Timers, done_text

VOLUME_MAX = const(10)
_GAIN_Q8 = (0, 8, 13, 20, 32, 45, 64, 90, 128, 181, 256)  # 3 dB a step, 10 = unity
_STORE_NAME = "voice_volume"
_MAX_LATE = const(4)  # reminders waiting for the phone


class Actions:
    def __init__(self, voice, store=None, volume=8):
        self.voice = voice
        self.store = store
        self.timers = Timers(voice.clock)
        self.late = []  # reminder texts due while the phone was away
        self.volume = self._load(volume)
        voice.playback.gain = _GAIN_Q8[self.volume]

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
        elif t == "timer_cancel":
            n = self.timers.cancel(act.get("seconds"))
            v.log.info("voice: timers cancelled", n)
        elif t == "reminder":
            text = act.get("text")
            if not isinstance(text, str) or not self.timers.add(act.get("seconds"), text[:96]):
                v.log.warn("voice: reminder refused", act.get("seconds"))
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
        for sec, text in self.timers.take_due():
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
