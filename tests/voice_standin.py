"""`app.voice` as the notification and sense end-to-end tests see it: the real voice
service (firmware/voice/service.py) with what it was asked recorded (Recorded), or, on a
board without one, a stand-in with the same interface (talk(), say(text), chime(name),
mute(bool)), built from real parts where they exist:

- say(text): the offload RPC "tts" with {"text": text} to the phone, over the real link
  (the test's phone registers a "tts" handler and records what it was asked to speak);
  nothing is said while muted;
- chime(name): the firmware's own chimes (firmware/voice/chimes.py) through its Playback
  on the board's speaker I2S, so the simulated MAX98357A hears them;
- talk(): counted (starting the microphone is the voice service's job);
- mute(on): recorded; muted, say() and chime() are skipped.

install(glasses) sets it as glasses.on_boot, so every boot (also after a reset) gets one.
"""
from firmware.voice import chimes
from firmware.voice.playback import Playback
from firmware.runtime import sched as S

CHIME_IDS = {"notification": chimes.NOTIFICATION, "message": chimes.NOTIFICATION,
             "call": chimes.NOTIFICATION, "reminder": chimes.NOTIFICATION,
             "urgent": chimes.START, "confirm": chimes.END, "dismiss": chimes.END,
             "error": chimes.ERROR, "battery_low": chimes.LOW_BATTERY,
             "battery_critical": chimes.LOW_BATTERY}


class VoiceStandIn:
    def __init__(self, app, record):
        self.app = app
        self.rec = record  # shared across boots: what was said / chimed, in order
        self.muted = False
        self.playback = None
        spk = app.board.speaker
        if spk is not None:
            self.playback = Playback(spk.open(), app.sched)
            app.sched.spawn(self.playback.run, name="playback", prio=S.PRIO_AUDIO)

    def talk(self):
        self.rec.talks += 1

    def mute(self, on):
        self.muted = bool(on)
        self.rec.mutes.append(self.muted)

    def chime(self, name):
        if self.muted:
            self.rec.skipped.append(("chime", name))
            return
        self.rec.chimes.append(name)
        if self.playback is not None:
            self.playback.play_chime(CHIME_IDS[name])

    def say(self, text):
        if self.muted:
            self.rec.skipped.append(("say", text))
            return
        self.rec.said.append(text)
        link = self.app.link
        if link is not None:
            self.app.sched.spawn(self._tts, text, name="tts", prio=S.PRIO_LINK)

    async def _tts(self, text):
        try:
            await self.app.link.offload.call("tts", {"text": text}, timeout_ms=5000)
        except Exception as e:  # the link is down: the real voice service plays a phrase
            self.rec.tts_errors.append((text, str(e)))


class Recorded:
    """The real voice service, recording what it is asked (the same Record as the
    stand-in): talk(), mute(), and chime() / say() (skipped while muted, as it does)."""

    def __init__(self, voice, record):
        self._v = voice
        self.rec = record

    def __getattr__(self, name):
        return getattr(self._v, name)

    def talk(self):
        self.rec.talks += 1
        return self._v.talk()

    def mute(self, on):
        self.rec.mutes.append(bool(on))
        return self._v.mute(on)

    def chime(self, name):
        if self._v.muted:
            self.rec.skipped.append(("chime", name))
        else:
            self.rec.chimes.append(name)
        return self._v.chime(name)

    def say(self, text):
        if self._v.muted:
            self.rec.skipped.append(("say", text))
        else:
            self.rec.said.append(text)
        return self._v.say(text)


class Record:
    def __init__(self):
        self.said = []
        self.chimes = []
        self.talks = 0
        self.mutes = []
        self.skipped = []
        self.tts_errors = []


def install(glasses):
    """Give every boot of these glasses a VoiceStandIn; returns the shared Record."""
    rec = Record()
    prev = glasses.on_boot

    def on_boot(g):
        v = getattr(g.app, "voice", None)
        g.app.voice = VoiceStandIn(g.app, rec) if v is None else Recorded(v, rec)
        if prev is not None:
            prev(g)

    glasses.on_boot = on_boot
    return rec
