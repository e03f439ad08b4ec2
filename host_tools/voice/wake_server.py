"""A Wyoming wake-word server, run by the host as a child process
(host_tools/voice/workers.py):

    python -m host_tools.voice.wake_server --uri unix:///tmp/x/wake.sock
        [--engine openwakeword|microwakeword] [--model hey_jarvis] [--refractory-s 2]
        [--cutoff P]

Two engines of Home Assistant's voice stack, each with its models in its wheel:
openWakeWord (pyopen-wakeword; the default) and microWakeWord (pymicro-wakeword, the
one an ESP32-S3 can run itself). openWakeWord is the default because it hears the
robotic voices too (docs/voice.md, "Wake word"). Neither wyoming-openwakeword nor
wyoming-microwakeword is on the package registry, so this is the host's own small server
speaking the same protocol: describe -> info (the models in the wheel);
detect{names}? audio-start audio-chunk* audio-stop. While the audio streams, a
`detection{name, timestamp}` is sent the moment a model fires (timestamp: ms of audio
from the stream's start at the end of the chunk that fired it); at audio-stop
`not-detected` if none fired. Models are fresh per stream (they are stateful); a model
does not fire again within `refractory_s`. A `ping` is answered with `pong` after all
audio sent before it has been processed, so a client can wait for the verdict on what it
sent so far (the simulator does, in virtual time). Each detection carries the CPU seconds
the stream cost so far in its context: {"cpu_s", "probability"}.
"""
import argparse
import asyncio
import sys
import time
from pathlib import Path

RATE = 16000
ENGINES = ("openwakeword", "microwakeword")
# openWakeWord's probability must exceed this (its library suggests 0.5): on the corpus
# (bench/bench_voice_corpus.py) it fires on 99.4 % of the wake utterances in every voice
# (83.3 at 0.5), and 30 minutes of ordinary talk reach 0.09 at most; near misses it fires
# on are the recogniser's to turn away (wake.py). microWakeWord: each model's own cutoff.
OWW_CUTOFF = 0.2
_OWW_FRONT_END = ("melspectrogram", "embedding_model")


def models_dir(engine="openwakeword"):
    if engine == "microwakeword":
        import pymicro_wakeword as pkg
    else:
        import pyopen_wakeword as pkg
    return Path(pkg.__file__).parent / "models"


def available(engine="openwakeword"):
    """{name: (phrase, model path)} of the engine's models in its wheel."""
    import json
    out = {}
    if engine == "microwakeword":
        for p in sorted(models_dir(engine).glob("*.json")):
            with open(p, encoding="utf-8") as f:
                cfg = json.load(f)
            if cfg.get("type", "micro") == "micro":
                out[p.stem] = (cfg.get("wake_word", p.stem), p)
    else:
        for p in sorted(models_dir(engine).glob("*.tflite")):
            if p.stem not in _OWW_FRONT_END:
                out[p.stem] = (p.stem.replace("_", " "), p)
    return out


class _Micro:
    """microWakeWord: every 10 ms, each model's probability (the sliding mean of its
    output)."""

    def __init__(self, paths):
        from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures
        self.models = [(n, MicroWakeWord.from_config(p)) for n, p in paths]
        self.own_cutoffs = {n: m.probability_cutoff for n, m in self.models}
        self.features = MicroWakeWordFeatures()
        self.ms = 0

    def steps(self, pcm):
        """(ms of audio so far, name, probability) for what this audio completes."""
        for feats in self.features.process_streaming(pcm):
            self.ms += 10
            for name, m in self.models:
                p = m.process_streaming_prob(feats)
                if p is not None:
                    yield self.ms, name, p

    def close(self):
        for _, m in self.models:
            m.close()


_OWW_FEATURES_STATE = ("audio", "new_audio_samples", "mels", "new_mels")
_OWW_MODEL_STATE = ("embeddings", "new_embeddings")
_OWW_STEP = 1280  # samples: 80 ms, one embedding
_warm = {}  # the state a stream starts in, once per process (see _Open)


def _copy(v):
    return v.copy() if hasattr(v, "copy") else v


class _Open:
    """openWakeWord: every 80 ms a melspectrogram slice -> an embedding -> each model's
    classifier on the last embeddings. The library starts a stream by running 8 s of
    silence through its front end (so the word can fire in the stream's first second);
    that costs 0.5 s of CPU, so it is done once per process and its state copied into each
    new stream: the probabilities are the same (tests/test_voice_host.py)."""

    def __init__(self, paths):
        from pyopen_wakeword import OpenWakeWord, OpenWakeWordFeatures
        self.features = OpenWakeWordFeatures.from_builtin()
        self.models = [(n, OpenWakeWord.from_model(p)) for n, p in paths]
        self.own_cutoffs = {n: OWW_CUTOFF for n, _ in self.models}
        self.samples = 0
        self._start()

    def _start(self):
        f = self.features
        if "features" not in _warm:
            f.new_audio_samples -= _OWW_STEP  # its 8 s of silence and no more
            _warm["embeddings"] = list(f.process_streaming(bytes(2 * _OWW_STEP)))
            _warm["features"] = {a: _copy(getattr(f, a)) for a in _OWW_FEATURES_STATE}
        for a, v in _warm["features"].items():
            setattr(f, a, _copy(v))
        for name, m in self.models:
            if name not in _warm:
                for emb in _warm["embeddings"]:
                    for _ in m.process_streaming(emb):
                        pass
                _warm[name] = {a: _copy(getattr(m, a)) for a in _OWW_MODEL_STATE}
            for a, v in _warm[name].items():
                setattr(m, a, _copy(v))

    def steps(self, pcm):
        if not pcm:
            return
        self.samples += len(pcm) // 2
        ms = self.samples * 1000 // RATE
        for emb in self.features.process_streaming(pcm):
            for name, m in self.models:
                for p in m.process_streaming(emb):
                    yield ms, name, p

    def close(self):
        self.features.close()
        for _, m in self.models:
            m.close()


class Detector:
    """One stream: the engine's front end -> each model -> the first that fires."""

    def __init__(self, names, refractory_s=2.0, cutoff=None, engine="openwakeword"):
        if engine not in ENGINES:
            raise ValueError("unknown wake engine %r (known: %s)" % (engine, ", ".join(ENGINES)))
        models = available(engine)
        unknown = [n for n in names if n not in models]
        if unknown:
            raise ValueError("unknown wake word model %s (%s has: %s)"
                             % (", ".join(unknown), engine, ", ".join(models)))
        if cutoff is not None and not 0.0 < cutoff < 1.0:
            raise ValueError("wake cutoff must be between 0 and 1, got %r" % (cutoff,))
        front = _Open if engine == "openwakeword" else _Micro
        self.front = front([(n, models[n][1]) for n in names])
        # None: the engine's own (OWW_CUTOFF; a microWakeWord model's config: hey_jarvis 0.97)
        self.cutoffs = {n: c if cutoff is None else cutoff
                        for n, c in self.front.own_cutoffs.items()}
        self.refractory_ms = int(refractory_s * 1000)
        self.last = {}  # name -> ms it last fired
        self.fired = []
        self.cpu_s = 0.0
        self.best = 0.0

    def feed(self, pcm):
        """[(name, timestamp ms, probability)] that fired in this audio."""
        t0 = time.process_time()
        out = []
        for ms, name, p in self.front.steps(pcm):
            self.best = max(self.best, p)
            if p > self.cutoffs[name]:
                last = self.last.get(name)
                if last is None or ms - last >= self.refractory_ms:
                    self.last[name] = ms
                    out.append((name, ms, round(float(p), 3)))
        self.fired.extend(out)
        self.cpu_s += time.process_time() - t0
        return out

    def close(self):
        self.front.close()


ATTRIBUTION = {
    "openwakeword": ("David Scripka (openWakeWord)", "https://github.com/dscripka/openWakeWord",
                     "pyopen-wakeword"),
    "microwakeword": ("Kevin Ahrendt (microWakeWord)",
                      "https://github.com/kahrendt/microWakeWord", "pymicro-wakeword")}


def info_event(engine="openwakeword"):
    from wyoming.info import Attribution, Info, WakeModel, WakeProgram
    who, url, package = ATTRIBUTION[engine]
    att = Attribution(name=who, url=url)
    models = [WakeModel(name=n, attribution=att, installed=True, description=phrase,
                        version=None, languages=["en"], phrase=phrase)
              for n, (phrase, _) in available(engine).items()]
    return Info(wake=[WakeProgram(name="glasses-wake", attribution=att, installed=True,
                                  description=package, version="1",
                                  models=models)]).event()


def make_handler(default_names, refractory_s, cutoff=None, engine="openwakeword"):
    from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
    from wyoming.error import Error
    from wyoming.info import Describe
    from wyoming.ping import Ping, Pong
    from wyoming.server import AsyncEventHandler
    from wyoming.wake import Detect, Detection, NotDetected

    class Handler(AsyncEventHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.names = list(default_names)
            self.det = None
            self.conv = AudioChunkConverter(rate=RATE, width=2, channels=1)

        async def handle_event(self, event):
            if Describe.is_type(event.type):
                await self.write_event(info_event(engine))
                return True
            if Detect.is_type(event.type):
                names = Detect.from_event(event).names
                if names:
                    self.names = list(names)
                return True
            if AudioStart.is_type(event.type):
                self._drop()
                try:
                    self.det = Detector(self.names, refractory_s, cutoff, engine)
                except ValueError as e:
                    await self.write_event(Error(text=str(e), code="unknown_model").event())
                    return False
                return True
            if AudioChunk.is_type(event.type):
                if self.det is None:
                    return True
                chunk = self.conv.convert(AudioChunk.from_event(event))
                for name, ms, p in self.det.feed(chunk.audio):
                    await self.write_event(Detection(
                        name=name, timestamp=ms,
                        context={"cpu_s": round(self.det.cpu_s, 4), "probability": p}).event())
                return True
            if Ping.is_type(event.type):
                await self.write_event(Pong(text=Ping.from_event(event).text).event())
                return True
            if AudioStop.is_type(event.type):
                if self.det is not None and not self.det.fired:
                    await self.write_event(NotDetected(context={
                        "cpu_s": round(self.det.cpu_s, 4),
                        "probability": round(float(self.det.best), 3)}).event())
                self._drop()
                return True
            return True

        def _drop(self):
            if self.det is not None:
                self.det.close()
                self.det = None

        async def disconnect(self):
            self._drop()

    return Handler


async def serve(uri, names, refractory_s, cutoff=None, engine="openwakeword"):
    from functools import partial
    from wyoming.server import AsyncServer
    # an unknown model fails now, not later; and the first stream starts warm
    Detector(names, refractory_s, cutoff, engine).close()
    server = AsyncServer.from_uri(uri)
    await server.run(partial(make_handler(names, refractory_s, cutoff, engine)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--uri", required=True)
    ap.add_argument("--engine", choices=ENGINES, default="openwakeword")
    ap.add_argument("--model", action="append", default=None,
                    help="model name (repeatable; default hey_jarvis)")
    ap.add_argument("--refractory-s", type=float, default=2.0)
    ap.add_argument("--cutoff", type=float, default=None,
                    help="fire above this probability (default: the engine's own)")
    args = ap.parse_args(argv)
    try:
        asyncio.run(serve(args.uri, args.model or ["hey_jarvis"], args.refractory_s,
                          args.cutoff, args.engine))
    except ValueError as e:
        print("wake_server: %s" % e, file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
