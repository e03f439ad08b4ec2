"""A Wyoming speech-to-text server on faster-whisper, run by the host as a child process
(host_tools/voice/workers.py) so recognition never shares the host's process:

    python -m host_tools.voice.asr_server --uri unix:///tmp/x/asr.sock --model DIR

Why not the wyoming-faster-whisper server: its transcriber keeps faster-whisper's
temperature fallback (a repetition loop on odd audio retries up to T=1.0: seconds per
clip) with no token cap, and its transcript carries the text only. This one decodes
at temperature 0 (a beam of 5) with a token cap on a window as long as the utterance (not
Whisper's fixed 30 s), prompts the decoder with the transcribe event's transcript_terms
(the host sends its commands' phrases: the recogniser leans towards them), undoes
Whisper's repetition loop and rejects other repetitive output, and puts what the host's
confidence floor needs into the transcript's context:
{"confidence", "avg_logprob", "no_speech_prob", "compression_ratio", "cpu_s", "audio_s",
"alternatives"}: the beam's other hypotheses too, which the host picks among
(host_tools/voice/intents.py, Registry.pick).
(The host can still be pointed at wyoming-faster-whisper or any Wyoming ASR service:
settings.py, GLASSES_WYOMING_ASR.)

Protocol (Wyoming): describe -> info; transcribe? audio-start audio-chunk* audio-stop ->
transcript, or error. The model directory is loaded by path: nothing is downloaded.
"""
import argparse
import asyncio
import math
import os
import re
import sys
import time
import zlib

MAX_AUDIO_S = 30
MAX_NEW_TOKENS = 48  # a spoken command or question is far shorter
MIN_WINDOW_FRAMES = 1500  # 15 s: on a shorter window tiny.en loses words (10 s: -8 points)
PAD_FRAMES = 100  # 1 s of quiet after the speech
BEAM = 5  # beam search: +3..5 points of intents on the corpus for ~10 % more CPU than greedy
ALTERNATIVES = 5  # hypotheses the transcript carries (the host picks among them)
PROMPT_TOKENS = 160  # of the host's vocabulary (Whisper takes up to 223)
MAX_TERMS = 64
RATE = 16000


def load_model(model_dir, threads=2, compute_type="int8"):
    """faster_whisper.WhisperModel from a directory (model.bin, config.json, tokenizer.json,
    vocabulary.*); ValueError with the reason when it is not one."""
    if not os.path.isdir(model_dir):
        raise ValueError("no model directory at %s" % model_dir)
    for f in ("model.bin", "config.json", "tokenizer.json"):
        p = os.path.join(model_dir, f)
        if not os.path.isfile(p) or os.path.getsize(p) == 0:
            raise ValueError("%s has no %s (not a CTranslate2 Whisper model)" % (model_dir, f))
    from faster_whisper import WhisperModel
    try:
        return WhisperModel(model_dir, device="cpu", compute_type=compute_type,
                            cpu_threads=threads, local_files_only=True)
    except Exception as e:  # CTranslate2 reports a bad model.bin as RuntimeError
        raise ValueError("%s does not load: %s: %s" % (model_dir, type(e).__name__, e)) from None


def repetitive(text):
    """Whisper's failure modes on noise: a short piece said over and over ("W-W-W-...",
    "you you you you")."""
    t = text.strip()
    return len(t) >= 24 and compression_ratio(t) > 2.4


def compression_ratio(text):
    raw = text.encode()
    return len(raw) / max(1, len(zlib.compress(raw))) if raw else 0.0


def collapse_repeats(text):
    """Whisper's loop on a short window, undone: "Repeat that. Repeat that. Repeat" ->
    "Repeat that." (every sentence after the first is it again, or the start of it)."""
    parts = [p for p in re.split(r"(?<=[.?!])\s+", text.strip()) if p]
    if len(parts) < 2:
        return text.strip()
    first = parts[0].lower().rstrip(".?!")
    if all(first.startswith(p.lower().rstrip(".?!")) for p in parts[1:]):
        return parts[0]
    return text.strip()


def _tokenizer(model):
    from faster_whisper.tokenizer import Tokenizer
    tok = getattr(model, "_glasses_tokenizer", None)
    if tok is None:
        tok = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe",
                        language="en")
        model._glasses_tokenizer = tok
    return tok


def prompt_tokens(tok, terms):
    """The decoder's prompt for these phrases (the host's command vocabulary: Wyoming's
    transcript_terms), its last PROMPT_TOKENS tokens; [] for none."""
    if not terms:
        return []
    text = " ".join(t.strip().rstrip(".") + "." for t in terms if t and t.strip())
    ids = tok.encode(" " + text) if text else []
    return [tok.sot_prev] + ids[-PROMPT_TOKENS:] if ids else []


def window_frames(n_samples):
    """Encoder frames (10 ms) for an utterance: the speech and PAD_FRAMES of quiet after
    it, at least MIN_WINDOW_FRAMES, at most Whisper's 30 s; even (the encoder halves)."""
    n = max(MIN_WINDOW_FRAMES, n_samples // 160 + PAD_FRAMES)
    return min(3000, n + (n & 1))


def transcribe(model, pcm, terms=None):
    """{"text", "confidence", ...} for 16 kHz int16 mono PCM. The encoder sees a window
    as long as the utterance (window_frames(), not Whisper's fixed 30 s: its cost grows
    with the window, ~3x less CPU for a command); a beam of 5, no timestamps, a token cap.
    "alternatives": the beam's hypotheses, best first ({"text", "confidence",
    "avg_logprob"}; the host picks among them: intents.Registry.pick)."""
    import ctranslate2
    import numpy as np
    t0 = time.process_time()
    audio = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    feats = model.feature_extractor(audio)
    t = window_frames(len(audio))
    x = np.zeros((1, feats.shape[0], t), np.float32)
    k = min(t, feats.shape[1])
    x[0, :, :k] = feats[:, :k]
    tok = _tokenizer(model)
    prompt = prompt_tokens(tok, terms) + list(tok.sot_sequence) + [tok.no_timestamps]
    enc = model.model.encode(ctranslate2.StorageView.from_array(x), to_cpu=False)
    r = model.model.generate(enc, [prompt], beam_size=BEAM, num_hypotheses=ALTERNATIVES,
                             max_length=len(prompt) + MAX_NEW_TOKENS, return_scores=True,
                             return_no_speech_prob=True,
                             suppress_blank=True, suppress_tokens=[-1])[0]
    hyps = [_hypothesis(tok, ids, score, r.no_speech_prob)
            for ids, score in zip(r.sequences_ids, r.scores)]
    best = hyps[0]
    rejected = "repetitive" if repetitive(best["text"]) else None
    return {"text": "" if rejected else best["text"],
            "confidence": 0.0 if rejected else best["confidence"],
            "avg_logprob": best["avg_logprob"], "no_speech_prob": best["no_speech_prob"],
            "compression_ratio": best["compression_ratio"], "rejected": rejected,
            "heard": best["text"] if rejected else None, "window_s": t / 100,
            "alternatives": [] if rejected else [
                {k: h[k] for k in ("text", "confidence", "avg_logprob")}
                for h in hyps if h["text"] and not repetitive(h["text"])],
            "cpu_s": round(time.process_time() - t0, 4), "audio_s": len(pcm) / (2 * RATE)}


def _hypothesis(tok, ids, score, no_speech_prob):
    """One of the beam's hypotheses: its text (a repetition loop undone), confidence and
    the figures behind it."""
    ids = [i for i in ids if i < tok.eot]
    raw = tok.decode(ids).strip()
    text = collapse_repeats(raw)
    n = len(ids)
    logprob = score * n / (n + 1) if n else -10.0  # per token, as faster-whisper's
    no_speech = no_speech_prob if n else 1.0
    conf = math.exp(logprob) * (1.0 - no_speech) if text else 0.0
    return {"text": text, "confidence": round(conf, 4), "avg_logprob": round(logprob, 4),
            "no_speech_prob": round(no_speech, 4),
            "compression_ratio": round(compression_ratio(raw), 3)}


def info_event(model_dir):
    from wyoming.info import AsrModel, AsrProgram, Attribution, Info
    att = Attribution(name="OpenAI Whisper, CTranslate2 by SYSTRAN",
                      url="https://github.com/SYSTRAN/faster-whisper")
    model = AsrModel(name=os.path.basename(os.path.normpath(model_dir)), attribution=att,
                     installed=True, description=model_dir, version=None,
                     languages=["en"])
    return Info(asr=[AsrProgram(name="glasses-asr", attribution=att, installed=True,
                                description="faster-whisper, beam 5, T=0", version="1",
                                models=[model])]).event()


def make_handler(model, model_dir):
    from wyoming.asr import Transcribe, Transcript
    from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
    from wyoming.error import Error
    from wyoming.info import Describe
    from wyoming.server import AsyncEventHandler

    class Handler(AsyncEventHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.conv = AudioChunkConverter(rate=RATE, width=2, channels=1)
            self.buf = bytearray()
            self.too_long = False
            self.terms = None  # the transcribe event's transcript_terms, for the prompt

        async def handle_event(self, event):
            if Describe.is_type(event.type):
                await self.write_event(info_event(model_dir))
                return True
            if Transcribe.is_type(event.type):
                terms = Transcribe.from_event(event).transcript_terms
                self.terms = [str(t) for t in terms[:MAX_TERMS]] if terms else None
                return True
            if AudioStart.is_type(event.type):
                self.buf.clear()
                self.too_long = False
                return True
            if AudioChunk.is_type(event.type):
                chunk = self.conv.convert(AudioChunk.from_event(event))
                if len(self.buf) + len(chunk.audio) > MAX_AUDIO_S * RATE * 2:
                    self.too_long = True
                else:
                    self.buf += chunk.audio
                return True
            if AudioStop.is_type(event.type):
                if self.too_long:
                    await self.write_event(Error(text="more than %d s of audio" % MAX_AUDIO_S,
                                                 code="too_long").event())
                    return False
                # one utterance at a time, in a thread of this server (its loop stays free)
                res = await asyncio.to_thread(transcribe, model, bytes(self.buf), self.terms)
                await self.write_event(Transcript(text=res["text"], language="en",
                                                  context=res).event())
                return False  # one connection per utterance, as wyoming-faster-whisper
            return True

    return Handler


async def serve(uri, model_dir, threads):
    from functools import partial
    from wyoming.server import AsyncServer
    model = load_model(model_dir, threads)
    transcribe(model, bytes(RATE))  # warm up: the first call costs the most
    server = AsyncServer.from_uri(uri)
    handler = make_handler(model, model_dir)
    await server.run(partial(handler))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--uri", required=True)
    ap.add_argument("--model", required=True, help="a CTranslate2 Whisper model directory")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    try:
        asyncio.run(serve(args.uri, args.model, args.threads))
    except ValueError as e:
        print("asr_server: %s" % e, file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
