"""Speech for tests, scenarios and the bench: a voice other than the answering one, so
what the wearer "says" is not the phone's own voice played back.

    pcm = speak("hey jarvis, what time is it")      # array('h'), 16 kHz, trimmed

The default test voice is Piper's joe voice (the only English Piper voice in a wheel)
made a different speaker: slower (length_scale 1.15, its own wyoming-piper worker) and
about a semitone higher (its 22,050 Hz output played at 23,500 Hz: formants and pitch
up 6.6 %, rate restored by the length scale). `espeak(text, voice, wpm)` gives eSpeak NG
voices (the espeakng-loader package), robotic on purpose. Both are synthesised in
worker processes or the caller's own thread: never in a host's event loop.
"""
import array
import functools

from host_tools.voice import workers
from host_tools.voice.resample import Resampler
from host_tools.voice.settings import Settings

RATE = 16000
TEST_LENGTH_SCALE = 1.15
TEST_PITCH = 23500 / 22050


def _trim(a, threshold=300):
    i = 0
    while i < len(a) and abs(a[i]) < threshold:
        i += 1
    j = len(a)
    while j > i and abs(a[j - 1]) < threshold:
        j -= 1
    return a[i:j]


def _synthesize_sync(w, text):
    """(rate, int16 bytes) from a Wyoming TTS worker over a blocking socket."""
    import socket
    from wyoming.audio import AudioChunk, AudioStart, AudioStop
    from wyoming.error import Error
    from wyoming.event import read_event, write_event
    from wyoming.tts import Synthesize
    w.start_sync()
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(60)
    s.connect(w.uri[len("unix://"):])
    rate = 22050
    out = bytearray()
    with s, s.makefile("rwb") as f:
        write_event(Synthesize(text=text).event(), f)
        f.flush()
        while True:
            ev = read_event(f)
            if ev is None:
                raise RuntimeError("tts worker closed the stream")
            if Error.is_type(ev.type):
                raise RuntimeError(Error.from_event(ev).text)
            if AudioStart.is_type(ev.type):
                rate = AudioStart.from_event(ev).rate
            elif AudioChunk.is_type(ev.type):
                out += AudioChunk.from_event(ev).audio
            elif AudioStop.is_type(ev.type):
                return rate, bytes(out)


@functools.lru_cache(maxsize=256)
def speak(text, length_scale=TEST_LENGTH_SCALE, pitch=TEST_PITCH):
    """The test voice saying text: 16 kHz int16 (array('h')), silence trimmed. Repeatable:
    the worker runs without generator noise."""
    st = Settings.from_env(tts_length_scale=length_scale, tts_deterministic=True)
    st.check("tts")
    rate, pcm = _synthesize_sync(workers.worker_for(st, "tts"), text)
    rs = Resampler(int(round(rate * pitch)), RATE)
    return _trim(rs.process(pcm))


@functools.lru_cache(maxsize=256)
def espeak(text, voice="en-us+m3", wpm=160):
    """An eSpeak NG voice saying text: 16 kHz int16, silence trimmed."""
    from host_tools.voice.tts import Tts
    return _trim(array.array("h", Tts(voice=voice, wpm=wpm).synthesize(text)))
