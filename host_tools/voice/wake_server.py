"""A Wyoming wake-word server on pymicro-wakeword (microWakeWord models from its wheel),
run by the host as a child process (host_tools/voice/workers.py):

    python -m host_tools.voice.wake_server --uri unix:///tmp/x/wake.sock [--refractory-s 2]
        [--cutoff P]

wyoming-microwakeword is not on the package registry, so this is the host's own small
server speaking the same protocol: describe -> info (the models in the wheel);
detect{names}? audio-start audio-chunk* audio-stop. While the audio streams, a
`detection{name, timestamp}` is sent the moment a model fires (timestamp: ms of audio
from the stream's start, at the end of the 10 ms window that fired); at audio-stop
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

RATE = 16000
WINDOW_BYTES = 320  # the feature front-end's 10 ms


def models_dir():
    import pymicro_wakeword
    from pathlib import Path
    return Path(pymicro_wakeword.__file__).parent / "models"


def available():
    """{name: (phrase, config path)} of the models in the wheel."""
    import json
    out = {}
    for p in sorted(models_dir().glob("*.json")):
        with open(p, encoding="utf-8") as f:
            cfg = json.load(f)
        if cfg.get("type", "micro") == "micro":
            out[p.stem] = (cfg.get("wake_word", p.stem), p)
    return out


class Detector:
    """One stream: features -> each model -> the first that fires."""

    def __init__(self, names, refractory_s=2.0, cutoff=None):
        from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures
        models = available()
        unknown = [n for n in names if n not in models]
        if unknown:
            raise ValueError("unknown wake word model %s (known: %s)"
                             % (", ".join(unknown), ", ".join(models)))
        if cutoff is not None and not 0.0 < cutoff < 1.0:
            raise ValueError("wake cutoff must be between 0 and 1, got %r" % (cutoff,))
        self.models = [(n, MicroWakeWord.from_config(models[n][1])) for n in names]
        # the sliding mean of the model's probability must exceed this; None: the model's
        # own (its config's probability_cutoff: hey_jarvis 0.97)
        self.cutoffs = {n: m.probability_cutoff if cutoff is None else cutoff
                        for n, m in self.models}
        self.features = MicroWakeWordFeatures()
        self.refractory_ms = int(refractory_s * 1000)
        self.last = {}  # name -> ms it last fired
        self.ms = 0  # audio processed
        self.fired = []
        self.cpu_s = 0.0
        self.best = 0.0

    def feed(self, pcm):
        """[(name, timestamp ms, probability)] that fired in this audio."""
        t0 = time.process_time()
        out = []
        for feats in self.features.process_streaming(pcm):
            self.ms += 10
            for name, m in self.models:
                p = m.process_streaming_prob(feats)
                if p is None:
                    continue
                self.best = max(self.best, p)
                if p > self.cutoffs[name]:
                    last = self.last.get(name)
                    if last is None or self.ms - last >= self.refractory_ms:
                        self.last[name] = self.ms
                        out.append((name, self.ms, round(float(p), 3)))
        self.fired.extend(out)
        self.cpu_s += time.process_time() - t0
        return out

    def close(self):
        for _, m in self.models:
            m.close()


def info_event():
    from wyoming.info import Attribution, Info, WakeModel, WakeProgram
    att = Attribution(name="Kevin Ahrendt (microWakeWord)",
                      url="https://github.com/kahrendt/microWakeWord")
    models = [WakeModel(name=n, attribution=att, installed=True, description=phrase,
                        version=None, languages=["en"], phrase=phrase)
              for n, (phrase, _) in available().items()]
    return Info(wake=[WakeProgram(name="glasses-wake", attribution=att, installed=True,
                                  description="pymicro-wakeword", version="1",
                                  models=models)]).event()


def make_handler(default_names, refractory_s, cutoff=None):
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
                await self.write_event(info_event())
                return True
            if Detect.is_type(event.type):
                names = Detect.from_event(event).names
                if names:
                    self.names = list(names)
                return True
            if AudioStart.is_type(event.type):
                self._drop()
                try:
                    self.det = Detector(self.names, refractory_s, cutoff)
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


async def serve(uri, names, refractory_s, cutoff=None):
    from functools import partial
    from wyoming.server import AsyncServer
    Detector(names, refractory_s, cutoff).close()  # an unknown model fails now, not later
    server = AsyncServer.from_uri(uri)
    await server.run(partial(make_handler(names, refractory_s, cutoff)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--uri", required=True)
    ap.add_argument("--model", action="append", default=None,
                    help="model name (repeatable; default hey_jarvis)")
    ap.add_argument("--refractory-s", type=float, default=2.0)
    ap.add_argument("--cutoff", type=float, default=None,
                    help="fire above this probability (default: the model's own)")
    args = ap.parse_args(argv)
    try:
        asyncio.run(serve(args.uri, args.model or ["hey_jarvis"], args.refractory_s,
                          args.cutoff))
    except ValueError as e:
        print("wake_server: %s" % e, file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
