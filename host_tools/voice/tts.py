"""Text-to-speech with eSpeak NG, driven through ctypes from the library and data that
the `espeakng-loader` wheel ships. Output: 16 kHz 16-bit mono PCM, streamed.

eSpeak NG synthesises at 22050 Hz in AUDIO_OUTPUT_SYNCHRONOUS mode: espeak_Synth() calls
our callback with ~`chunk_ms` of samples at a time. A worker thread runs the synthesis;
the chunks are resampled to 16 kHz (host_tools/voice/resample.py) and yielded as they
come, so playback can begin before the sentence is finished. The library is one global
state per process, so one synthesis runs at a time (a lock).
"""
import array
import ctypes
import os
import queue
import threading

RATE = 16000

# espeak_AUDIO_OUTPUT, espeak_POSITION_TYPE, flags, parameters, init options
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_ESPEAK_RATE = 1
_ESPEAK_VOLUME = 2
_ESPEAK_PITCH = 3
_INIT_DONT_EXIT = 0x8000
_EE_OK = 0

DEFAULT_VOICE = "en-us+f2"
DEFAULT_WPM = 160

_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.c_void_p)


class TtsError(RuntimeError):
    """Synthesis failed or stopped before the end; the message says why."""


class TtsUnavailable(TtsError):
    """The engine cannot be loaded on this machine."""


_lock = threading.Lock()
_engines = {}  # (lib_path, data_path) -> (lib, native rate), once initialised


def _load(lib_path=None, data_path=None):
    """Load and initialise libespeak-ng (once per library and data folder)."""
    key = (lib_path, data_path)
    if key in _engines:
        return _engines[key]
    try:
        import espeakng_loader
    except ImportError as e:
        raise TtsUnavailable("tts: the espeakng-loader package is not installed (%s)" % e) from e
    lib_path = lib_path or espeakng_loader.get_library_path()
    try:
        data_path = data_path or espeakng_loader.get_data_path()
    except RuntimeError as e:
        raise TtsUnavailable("tts: eSpeak NG data missing: %s" % e) from e
    if not os.path.isdir(data_path):
        raise TtsUnavailable("tts: eSpeak NG data folder not found: %s" % data_path)
    try:
        lib = ctypes.CDLL(lib_path)
    except OSError as e:
        raise TtsUnavailable("tts: cannot load libespeak-ng from %s: %s" % (lib_path, e)) from e
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p,
                                      ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    if hasattr(lib, "espeak_ng_SetRandSeed"):  # eSpeak NG 1.52+
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
    lib.espeak_SetParameter.restype = ctypes.c_int
    lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint,
                                 ctypes.c_int, ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p,
                                 ctypes.c_void_p]
    lib.espeak_Synth.restype = ctypes.c_int
    rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 100, data_path.encode(),
                                 _INIT_DONT_EXIT)
    if rate <= 0:
        raise TtsUnavailable("tts: espeak_Initialize failed (data at %s)" % data_path)
    _engines[key] = (lib, rate)
    return _engines[key]


class _Job:
    """One synthesis: the callback hands 22 kHz chunks to the consumer's queue.

    eSpeak always runs an utterance to its end (or to max_audio_s, a point fixed by the
    text), even when the consumer stops early: its wave generator carries state into the
    next utterance, so a stop that depended on thread timing would make every later
    answer (and a simulator run's ASR of it) differ from run to run. The rest of an
    abandoned utterance costs ~3 % of its length in CPU."""

    def __init__(self, limit):
        self.q = queue.Queue()  # bounded by limit: the callback stops eSpeak past it
        self.limit = limit
        self.samples = 0

    def callback(self, wav, n, _events):
        if wav and n > 0:
            self.q.put(ctypes.string_at(wav, n * 2))
            self.samples += n
            if self.samples > self.limit:
                return 1  # tells eSpeak to stop: the consumer raises TtsError there
        return 0


class Tts:
    """eSpeak NG voice. stream(text) yields 16 kHz int16 PCM chunks (bytes)."""

    def __init__(self, voice=DEFAULT_VOICE, wpm=DEFAULT_WPM, pitch=50, max_audio_s=60.0,
                 stall_s=10.0, lib_path=None, data_path=None):
        self.voice = voice
        self.wpm = wpm
        self.pitch = pitch
        self.max_audio_s = max_audio_s
        self.stall_s = stall_s
        self._lib, self.native_rate = _load(lib_path, data_path)

    def synthesize(self, text):
        """The whole utterance as one bytes object."""
        return b"".join(self.stream(text))

    def stream(self, text):
        """Yield PCM chunks as eSpeak produces them. Raises TtsError if the audio would
        exceed max_audio_s (eSpeak stops there) or the engine stalls."""
        from host_tools.voice.resample import Resampler
        if not isinstance(text, str):
            raise TtsError("tts: text must be a string, got %s" % type(text).__name__)
        text = text.strip()
        if not text:
            return
        limit = int(self.max_audio_s * self.native_rate)
        job = _Job(limit)
        err = []
        done = object()

        def work():
            with _lock:
                lib = self._lib
                cb = _CALLBACK(job.callback)
                try:
                    lib.espeak_SetSynthCallback(cb)
                    if lib.espeak_SetVoiceByName(self.voice.encode()) != _EE_OK:
                        err.append("tts: unknown eSpeak NG voice %r" % self.voice)
                        return
                    lib.espeak_SetParameter(_ESPEAK_RATE, int(self.wpm), 0)
                    lib.espeak_SetParameter(_ESPEAK_PITCH, int(self.pitch), 0)
                    seed = getattr(lib, "espeak_ng_SetRandSeed", None)
                    if seed is not None:  # eSpeak seeds its noise from time(NULL) at init:
                        seed(0)           # a fixed seed makes a run repeat from its seed
                    data = text.encode("utf-8")
                    r = lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0,
                                         _CHARS_UTF8, None, None)
                    if r != _EE_OK and job.samples <= limit:
                        err.append("tts: espeak_Synth failed with error %d" % r)
                finally:
                    job.q.put(done)

        th = threading.Thread(target=work, name="espeak", daemon=True)
        th.start()
        rs = Resampler(self.native_rate, RATE)
        got = 0
        # A consumer that stops early (or a stall) leaves eSpeak to finish the utterance
        # on its own (see _Job); the next synthesis waits for it on _lock.
        while True:
            try:
                item = job.q.get(timeout=self.stall_s)
            except queue.Empty:
                raise TtsError("tts: the engine stalled (no audio for %.1f s)"
                               % self.stall_s) from None
            if item is done:
                break
            got += len(item) // 2
            if got > limit:
                raise TtsError("tts: stopped after %.1f s of audio (max_audio_s); "
                               "the text is too long to speak in one answer"
                               % self.max_audio_s)
            out = rs.process(array.array("h", item))
            if len(out):
                yield out.tobytes()
        th.join()
        if err:
            raise TtsError(err[0])
