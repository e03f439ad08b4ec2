# The voice path as a service of the app (docs/voice.md, "On the glasses"): listen on the
# microphone (a query starts by the wake word, by any speech or by a tap: voice_start),
# stream the utterance to the phone, ask it, and play the answer it streams back.
#
#   app.voice.talk()          a tap: start listening / end the utterance / stop an answer
#   app.voice.say(text)       speak a text through the phone's TTS (notifications)
#   app.voice.chime(name)     a local chime (chimes.NAMES and chimes.ALIASES)
#   app.voice.allow_mic(ok)   the power policy: False closes the microphone and keeps it so
#   app.voice.mute(on)        not worn: microphone closed, nothing plays, nothing is asked
#   app.voice.busy()          listening, waiting for or playing an answer
#
# Tasks: the capture's reader and processor, the playback, and the worker (worker.py),
# which runs one job at a time from a queue of 4 ("ask" after an utterance, "say";
# answer.py) and rings the timers (actions.py).
from firmware.voice import capture as C
from firmware.voice import worker as _w
from firmware.voice import chimes
from firmware.voice.answer import Answer
from firmware.voice.jitter import Jitter
from firmware.voice.offline import STATE_NAMES as STORE_STATES
from firmware.voice.playback import STATE_NAMES as PLAYBACK_STATES
from firmware.voice.playback import Playback
from firmware.voice.settings import CONFIG
from firmware.voice.actions import Actions
from firmware.voice.vad import Vad
from firmware.protocol import kinds
from firmware.runtime import sched as _s
from firmware.runtime.sync import Queue

from firmware.voice.worker import ASK, IDLE, LISTENING, SAY, STATE_NAMES, THINKING


def _cfg(app, key):
    return app.config.get(key, CONFIG[key])


class Voice:
    def __init__(self, app, mic, speaker, privacy_led=None):
        self.app = app
        self.sched = app.sched
        self.log = app.log
        self.clock = app.sched.clock
        self.mic = mic
        self.led = privacy_led
        start = _cfg(app, "voice_start")
        if not _cfg(app, "voice_vad"):
            start = "tap"
        if start not in ("wake", "vad", "tap"):
            app.log.warn("voice: unknown voice_start; using wake:", str(start))
            start = "wake"
        self.start_mode = start
        self.vad_mode = start != "tap"
        from firmware.voice.phrases import unreachable
        jitter = Jitter(_cfg(app, "voice_jitter_slots"), _cfg(app, "voice_jitter_packet_bytes"))
        self.playback = Playback(None, self.sched, phrase=unreachable.DATA, port=speaker,
                                 on_open=self._speaker_open, jitter=jitter)
        max_ms = _cfg(app, "voice_max_ms")
        self.capture = C.Capture(
            None, self.sched, self._send_audio, self._privacy, link_up=self._link_up,
            playback=self.playback, ring_frames=_cfg(app, "voice_ring_frames"),
            preroll_frames=_cfg(app, "voice_preroll_frames"),
            vad=Vad(max_ms=max_ms, hangover_ms=_cfg(app, "voice_hangover_ms")),
            mode=C.MODE_VAD if self.vad_mode else C.MODE_TAP, max_ms=max_ms,
            offline_bytes=_cfg(app, "voice_offline_bytes"),
            offline_keep_ms=_cfg(app, "voice_keep_ms"), on_end=self.on_end,
            on_handover=self.on_handover, silence_ms=_cfg(app, "voice_silence_ms"),
            gate=self._half_duplex, handover_ok=self._handover_ok,
            audio_room=self._audio_room, wake=start == "wake")
        link = app.link
        self.answer = None
        if link is not None:
            self.answer = Answer(link.offload, self.playback, self.clock,
                                 first_ms=_cfg(app, "voice_first_ms"),
                                 stall_ms=_cfg(app, "voice_stall_ms"))
            link.on("up", self._on_link)
            link.route(kinds.VOICE_ENDPOINT, self._on_endpoint)
        self.jobs = Queue(4)
        self.state = IDLE
        self.muted = bool(_cfg(app, "voice_start_muted"))
        self.mic_allowed = True
        self.job = None
        self._abort = None  # why the running job was stopped: "link", "muted", "stopped"
        self.actions = Actions(self, getattr(app.board, "store", None), _cfg(app, "voice_volume"))
        self.timers = self.actions.timers  # the wearer's timers and reminders (timers.py)
        self.dropped = 0  # speech heard but not taken (an answer playing): said so
        self.asks = 0
        self.answers = 0
        self.says = 0
        self.errors = 0
        self.endpoints = 0
        self.kept = 0  # queries kept again after their answer was lost with the link
        self.last_error = None
        self.heard = ""
        self.said = ""
        self._acks = -1  # the link's acks count when the phone was told of a held query

    # ---- wiring ----------------------------------------------------------------------
    def start(self):
        s = self.sched
        cap = self.capture
        r = _s.RESTART_ON_ERROR
        s.spawn(cap.reader, name="mic", prio=_s.PRIO_AUDIO, restart=r)
        s.spawn(cap.processor, name="capture", prio=_s.PRIO_LINK, restart=r)
        s.spawn(self.playback.run, name="playback", prio=_s.PRIO_AUDIO, restart=r)
        s.spawn(self.worker, name="voice", prio=_s.PRIO_LINK, restart=r)
        if self.vad_mode and not self.muted and self.mic_allowed:
            self._mic_open()

    def _mic_open(self):
        cap = self.capture
        if cap.i2s is None:
            try:
                cap.attach(self.mic.open())
            except OSError as e:
                self._note_error("microphone: %s" % e)
                return False
            self.app.board.stay_awake("mic", True)  # I2S DMA stops in lightsleep
        return True

    def _mic_close(self):
        cap = self.capture
        if cap.i2s is not None:
            cap.detach()
            self.mic.close()
            self.app.board.stay_awake("mic", False)

    def _speaker_open(self, on):
        self.app.board.stay_awake("speaker", on)

    def _half_duplex(self):
        """No VAD start while the glasses wait for, or play, something: the speaker is
        next to the microphone (a tap still starts an utterance). With the wake word the
        phone decides (it knows what it plays), so speech then may be a barge-in; without
        it the speech is dropped, and a short earcon and a log line say so."""
        busy = self.job is not None or self.playback.busy()
        if busy and self.start_mode != "wake":
            self.dropped += 1
            self.log.info("voice: speech dropped: an answer is playing (tap to interrupt)")
            if self.dropped & 7 == 1:  # not on every syllable
                self.playback.play_chime(chimes.END)
        return busy and self.start_mode != "wake"

    def _privacy(self, on):
        if self.led is not None:
            self.led.value(on)

    def _link_up(self):
        link = self.app.link
        return link is not None and link.up

    def _handover_ok(self):
        """A held query goes to the phone once an event saying a query is waiting has been
        acknowledged (after a reconnect the glasses' end may open before the phone's)."""
        if not self._link_up():
            self._acks = -1
            return False
        link = self.app.link
        if self._acks < 0:
            if link.event("voice", {"held": self.capture.store.first_seq()}):
                self._acks = link.acks()
            return False
        return link.acks() != self._acks

    def _audio_room(self):
        link = self.app.link
        return link.audio_room() if link is not None else 0

    def _send_audio(self, pkt):
        link = self.app.link
        if link is not None:
            link.send_audio(pkt)

    # ---- the app's API -----------------------------------------------------------------
    def talk(self):
        """A tap: start listening, end the utterance, or stop the answer. Returns what it
        did: "listen", "stop", "stopped", "muted" or "error"."""
        if self.muted or not self.mic_allowed:
            why = "not worn" if self.muted else "the microphone is not allowed now"
            self.log.info("voice: tap not taken:", why)
            if not self.muted:
                self.playback.play_chime(chimes.ERROR)
            return "muted"
        cap = self.capture
        if cap.streaming:
            cap.stop()
            return "stop"
        if self.job is not None:
            self._stop_job("stopped", "stopped by the wearer")
            return "stopped"
        if not self._mic_open():
            return "error"
        cap.start()
        self.state = LISTENING
        return "listen"

    def say(self, text):
        """Speak text through the phone (False: muted, empty, or the queue is full)."""
        if self.muted or not text or self.answer is None or self.jobs.full():
            return False
        self.jobs.put_nowait((SAY, str(text)))
        return True

    def chime(self, name):
        """Play a local chime by name (False while muted); ValueError for an unknown one."""
        if name in chimes.ALIASES:
            cid = chimes.ALIASES[name]
        else:
            try:
                cid = chimes.NAMES.index(name)
            except ValueError:
                raise ValueError("unknown chime %r (known: %s)" % (name, ", ".join(chimes.NAMES)))
        if self.muted:
            return False
        self.playback.play_chime(cid)
        return True

    def mute(self, on):
        """Not worn (on=True): drop the utterance, the queued and running jobs, close the
        microphone, stop playing. Worn again: listen again (VAD mode)."""
        on = bool(on)
        if on == self.muted:
            return
        self.muted = on
        if on:
            while not self.jobs.empty():
                self.jobs.get_nowait()
            self._stop_job("muted", "the glasses were taken off")
            self._mic_close()
            self.playback.stop()
            self.state = IDLE
        elif self.vad_mode and self.mic_allowed:
            self._mic_open()

    def allow_mic(self, allowed):
        """The power policy's microphone knob: False stops the microphone (an utterance
        in progress is dropped) and keeps it closed, even for a tap, until allowed again."""
        allowed = bool(allowed)
        if allowed == self.mic_allowed:
            return
        self.mic_allowed = allowed
        if not allowed:
            self._mic_close()
        elif self.vad_mode and not self.muted:
            self._mic_open()

    def busy(self):
        return self.capture.streaming or self.job is not None or not self.jobs.empty()

    def status(self):
        cap = self.capture
        pb = self.playback
        return {"state": STATE_NAMES[self.state], "muted": self.muted,
                "mic_allowed": self.mic_allowed,
                "mode": self.start_mode, "utterances": cap.utterances,
                "i2s_stalls": cap.i2s_stalls, "overruns": cap.overruns,
                "volume": self.actions.volume, "dropped": self.dropped,
                "asks": self.asks, "answers": self.answers, "says": self.says,
                "errors": self.errors, "last_error": self.last_error,
                "endpoints": self.endpoints, "held": STORE_STATES[cap.store.state],
                "heard": self.heard, "timers": len(self.timers),
                "mic_open": cap.i2s is not None, "playback": PLAYBACK_STATES[pb.state],
                "underruns": pb.underruns, "lost": pb.jitter.lost}

    # ---- capture callbacks (processor task) -----------------------------------------------
    def on_end(self, first, last, why, delivered):
        if self.state == LISTENING:
            self.state = IDLE
        if why == C.END_ABORT:  # dropped by whoever closes the microphone
            return
        if not self.vad_mode:
            self._mic_close()  # tap-to-talk: the microphone is open only while talking
        if why == C.END_SILENT:
            return
        if self.capture.awaiting_wake:  # the phone never heard the wake word
            self.log.info("voice: no wake word; not a query")
            return
        if not delivered:  # the capture said so out loud and keeps the query
            self._note_error("phone not reachable; the query is kept")
            return
        self._enqueue((ASK, first, last, why))

    def on_handover(self, first, last):
        self._acks = -1
        self._enqueue((ASK, first, last, 0))

    def _enqueue(self, job):
        if self.muted or self.answer is None:
            return
        self.jobs.put_drop_oldest(job)  # the newest query matters most
        self.state = THINKING

    # ---- link callbacks ----------------------------------------------------------------
    def _on_link(self, up):
        if not up:
            self._stop_job("link", "the link to the phone was lost")
        else:
            self.actions.say_late()

    def _on_endpoint(self, msg):
        """The phone about the utterance streaming now ({1: its first packet}): 3 absent
        or 1, the command is whole (stop listening); 2, it heard the wake word (a query:
        an answer playing is stopped, barge-in); 3, no wake word (drop the stream)."""
        cap = self.capture
        if not cap.streaming or msg.get(1) != cap.first_seq:
            return
        what = msg.get(3, 1)
        if what == 2:
            if cap.confirm_wake():
                self.state = LISTENING
                if self.job is not None:
                    self._stop_job("stopped", "the wake word during the answer")
        elif what == 3:
            if cap.awaiting_wake:
                cap.abort()
        elif not cap.tapped and not cap.awaiting_wake:
            # a tapped utterance ends with the next tap: the wearer said when
            cap.stop()
            self.endpoints += 1

    # ---- the worker (worker.py) ---------------------------------------------------------
    worker = _w.worker
    _run = _w.run
    _ask_args = _w.ask_args
    _on_meta = _w.on_meta
    _stop_job = _w.stop_job
    _failed = _w.failed

    def _note_error(self, text):
        self.errors += 1
        self.last_error = text
        self.log.warn("voice:", text)


def start(app):
    """The voice path (the board has a microphone and a speaker: firmware/app.py checks).
    Returns the Voice service (app.voice)."""
    b = app.board
    v = Voice(app, b.mic, b.speaker, b.privacy_led)
    app.status("voice", v.status)
    v.start()
    return v
