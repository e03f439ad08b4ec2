"""Speech recognition with pocketsphinx (its wheel ships the en-US acoustic model, the
dictionary and a general language model).

Two passes over the same audio (16 kHz, 16-bit mono):
1. the *grammar* search: a JSGF grammar built from the registered intents' phrases, so
   commands are recognised accurately;
2. accepted only if the grammar reached a complete phrase AND explains the audio about as
   well as a free phone loop (the `allphone` search over the same audio): the margin
   log(grammar score) - log(phone-loop score) must be >= `min_margin`. Out-of-grammar
   speech forced through the grammar scores clearly worse than the phone loop;
   AND the phrase's words cover most of the voiced audio (`min_coverage` of the 10 ms
   frames louder than the noise floor): a long ramble that happens to contain something
   like a command is otherwise aligned as that command plus seconds of "silence";
3. otherwise the *language model* search gives free text (for the answer backend).
Result: {"text", "confidence", "search": "grammar" | "lm", "margin", "frames"}.
"""
import array
import math
import os
import threading

RATE = 16000
MAX_AUDIO_S = 30


class AsrError(RuntimeError):
    pass


class AsrUnavailable(AsrError):
    pass


class Asr:
    def __init__(self, jsgf, is_complete, model_dir=None, min_margin=0.0, min_coverage=0.8):
        """jsgf: the grammar text; is_complete(text) -> bool: whether a grammar
        hypothesis is a whole phrase (the intent matcher)."""
        try:
            import pocketsphinx
        except ImportError as e:
            raise AsrUnavailable("asr: pocketsphinx is not installed (%s)" % e) from e
        model_dir = model_dir or pocketsphinx.get_model_path("en-us")
        hmm = os.path.join(model_dir, "en-us")
        paths = {"acoustic model": hmm,
                 "dictionary": os.path.join(model_dir, "cmudict-en-us.dict"),
                 "language model": os.path.join(model_dir, "en-us.lm.bin"),
                 "phone model": os.path.join(model_dir, "en-us-phone.lm.bin")}
        for what, p in paths.items():
            if not os.path.exists(p):
                raise AsrUnavailable("asr: pocketsphinx %s not found at %s" % (what, p))
        try:
            d = pocketsphinx.Decoder(hmm=hmm, dict=paths["dictionary"],
                                     lm=paths["language model"], loglevel="FATAL")
            self._lm = d.current_search()
            d.add_allphone_file("phones", paths["phone model"])
        except Exception as e:  # the C library reports load failures as RuntimeError
            raise AsrUnavailable("asr: pocketsphinx could not load its model: %s" % e) from e
        try:
            d.add_jsgf_string("intents", jsgf)
        except Exception as e:
            raise AsrError("asr: the intent grammar does not compile (%s); every word must "
                           "be in the pronunciation dictionary" % e) from e
        self._d = d
        self._lock = threading.Lock()
        self.is_complete = is_complete
        self.min_margin = min_margin
        self.min_coverage = min_coverage

    def _run(self, search, pcm):
        d = self._d
        d.activate_search(search)
        d.start_utt()
        d.process_raw(pcm, full_utt=True)
        d.end_utt()
        return d.hyp()

    def _word_frames(self):
        """10 ms frames the last search aligned to words (not silence or fillers)."""
        return sum(s.end_frame - s.start_frame + 1 for s in self._d.seg()
                   if s.word[:1] not in ("<", "["))

    def recognize(self, pcm, rate=RATE):
        if rate != RATE:
            raise AsrError("asr: audio must be %d Hz, got %r" % (RATE, rate))
        if not isinstance(pcm, (bytes, bytearray, memoryview)):
            raise AsrError("asr: audio must be bytes of 16-bit PCM")
        pcm = bytes(pcm)
        if len(pcm) & 1:
            raise AsrError("asr: 16-bit PCM must have an even byte count, got %d" % len(pcm))
        if len(pcm) > MAX_AUDIO_S * RATE * 2:
            raise AsrError("asr: more than %d s of audio" % MAX_AUDIO_S)
        frames = len(pcm) // 320
        if len(pcm) < 3200:  # under 100 ms
            return {"text": "", "confidence": 0.0, "search": "none", "margin": None,
                    "frames": frames}
        with self._lock:
            g = self._run("intents", pcm)
            margin = None
            coverage = None
            if g is not None and g.hypstr and self.is_complete(g.hypstr):
                coverage = self._word_frames() / max(1, voiced_frames(pcm))
                p = self._run("phones", pcm)
                if p is not None and p.score > 0 and g.score > 0:
                    margin = math.log(g.score) - math.log(p.score)
                if (margin is not None and margin >= self.min_margin and
                        coverage >= self.min_coverage):
                    conf = 1.0 / (1.0 + math.exp(-20.0 * margin))
                    return {"text": g.hypstr, "confidence": round(conf, 3),
                            "search": "grammar", "margin": round(margin, 4),
                            "coverage": round(coverage, 3), "frames": frames}
            h = self._run(self._lm, pcm)
        text = h.hypstr if h is not None else ""
        conf = float(h.prob) if h is not None else 0.0
        return {"text": text, "confidence": round(conf, 3), "search": "lm",
                "margin": None if margin is None else round(margin, 4),
                "coverage": None if coverage is None else round(coverage, 3),
                "frames": frames}


def voiced_frames(pcm, frame=160):
    """10 ms frames of 16 kHz int16 PCM louder than the noise floor (its 10th percentile
    level, times 3, between 200 and 1000 in mean |sample|)."""
    a = array.array("h")
    a.frombytes(pcm)
    levels = []
    for i in range(0, len(a) - frame + 1, frame):
        levels.append(sum(map(abs, a[i:i + frame])) // frame)
    if not levels:
        return 0
    floor = sorted(levels)[len(levels) // 10]
    thr = min(1000, max(200, 3 * floor))
    return sum(1 for lv in levels if lv > thr)
