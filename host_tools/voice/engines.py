"""The voice host's engines behind one contract (host.py and steps.py call these):

    await eng.asr(pcm_bytes, rate)        -> {"text", "confidence", "search", ...}: of the
                                             recogniser's hypotheses, the one to act on
    await eng.assist(text, context)       -> {"answer", "actions", "intent"}
    async for chunk in eng.tts(text): ...    16 kHz int16 PCM chunks
    eng.wake_stream(on_detect)            -> WakeStream or None
    await eng.wake_said(pcm)              -> (True/False/None, what the recogniser heard)

Speech runs in worker processes (host_tools/voice/speech.py, workers.py); the assistant
(a regex match over a few dozen templates, < 1 ms) runs inline, a configured chat backend
(an HTTP request) in a thread. Configuration comes from the environment
(host_tools/voice/settings.py: models, Wyoming services, thresholds; GLASSES_VOICE_PLUGINS
for more intents; GLASSES_LLM_* for the backend, backend.py), or from `settings=` and
`env=` for tests. An engine that cannot run raises Unavailable naming the setting and the
package; the others go on.
"""
import asyncio
import importlib
import os
import re

from host_tools.voice import assist as _assist
from host_tools.voice.backend import BackendError, ChatBackend
from host_tools.voice.errors import Unavailable
from host_tools.voice.settings import Settings
from host_tools.voice.speech import Speech

ASSIST_S = 0.001  # the intent matcher, charged in virtual time
WORD_LIKE = 0.75  # difflib ratio: "Jervis" is jarvis (0.83), "Travis" is not (0.67)


def says_word(text, phrase):
    """Whether a transcript has the wake phrase's own word (its last: jarvis, nabu,
    alexa), spelt as a recogniser may spell it."""
    import difflib
    word = phrase.split()[-1].lower()
    return any(difflib.SequenceMatcher(None, w, word).ratio() >= WORD_LIKE
               for w in re.findall(r"[a-z']+", text.lower()))


def without_wake_word(text, phrase):
    """The transcript without the wake phrase it starts with ("Jarvis, what time is it?"
    -> "what time is it?": the host cuts the query a little before the detection, which
    fires at the word's end or later); the text itself when it does not start with it."""
    words = phrase.lower().split()
    for k in range(1, len(words) + 1):
        m = re.match(r"\W*((?:[a-z']+\W+){%d})(.*)$" % k, text, re.I | re.S)
        if m is None:
            break
        said = re.findall(r"[a-z']+", m.group(1).lower())
        if says_word(said[-1], phrase) and all(w in words for w in said[:-1]):
            return m.group(2) if m.group(2).strip() else text
    return text


class Engines:
    def __init__(self, compute, settings=None, env=None, plugins=None):
        self.compute = compute
        self.env = os.environ if env is None else env
        self._settings = settings
        self._plugins = plugins
        self._speech = None
        self._assistant = None
        self._terms = None

    @property
    def settings(self):
        if self._settings is None:
            virtual = self.compute.charge
            self._settings = Settings.from_env(self.env, tts_deterministic=virtual)
        return self._settings

    @property
    def speech(self):
        if self._speech is None:
            self._speech = Speech(self.settings, self.compute)
        return self._speech

    def registry(self):
        r = _assist.default_registry()
        mods = self._plugins if self._plugins is not None else (
            self.env.get("GLASSES_VOICE_PLUGINS") or "")
        if isinstance(mods, str):
            mods = [m.strip() for m in mods.split(",") if m.strip()]
        for mod in mods:
            try:
                importlib.import_module(mod).register(r)
            except Exception as e:
                raise Unavailable("assist: intent plugin %s failed to load: %s: %s"
                                  % (mod, type(e).__name__, e)) from e
        return r

    def assistant(self):
        if self._assistant is None:
            try:
                backend = ChatBackend.from_env(self.env)
            except BackendError as e:
                raise Unavailable("assist: answer backend misconfigured: %s" % e) from e
            self._assistant = _assist.Assistant(self.registry(), _assist.Context(), backend,
                                                self.settings.confidence_floor)
        return self._assistant

    async def start(self):
        """Start the speech workers now (the host's start), so the first query is quick.
        Failures are left for the first query to report."""
        sp = self.speech
        for kind in ("asr", "tts", "wake"):
            try:
                if kind == "wake" and self.settings.profile == "light":
                    continue
                await sp.worker(kind).ready()
            except Unavailable:
                pass

    async def asr(self, pcm, rate):
        res = self._unwake(await self.speech.asr(pcm, rate, self.terms()))
        try:
            registry = self.assistant().registry
        except Unavailable:
            return res
        return registry.pick(res)

    def _unwake(self, res):
        """The result with the wake phrase taken off the front of each hypothesis."""
        if self.settings.profile == "light" or not res.get("text"):
            return res
        phrase = self.settings.wake_phrase
        res = dict(res, text=without_wake_word(res["text"], phrase))
        if res.get("alternatives"):
            res["alternatives"] = [dict(a, text=without_wake_word(a["text"], phrase))
                                   for a in res["alternatives"]]
        return res

    def terms(self):
        """The commands' phrases the recogniser leans towards (Registry.vocabulary());
        none when the assistant cannot be made (its error is the assistant's to report)."""
        if self._terms is None:
            try:
                self._terms = self.assistant().registry.vocabulary()
            except Unavailable:
                self._terms = []
        return self._terms

    async def assist(self, text, context=None, confidence=None):
        a = self.assistant()
        if context:
            try:
                a.context.update(context)
            except ValueError as e:
                raise Unavailable("assist: bad context: %s" % e) from e
        if a.backend is None:
            reply = a.answer(text, confidence)
        else:
            reply = await asyncio.to_thread(a.answer, text, confidence)
        if self.compute.charge:
            await asyncio.sleep(ASSIST_S)
        return dict(reply)

    async def tts(self, text):
        async for chunk in self.speech.tts(text):
            yield chunk

    async def wake_said(self, pcm):
        """Does the recogniser hear the wake word in this audio (the utterance up to just
        after the detector fired)? (True or False, the text); (None, why) when it is not
        asked (GLASSES_WAKE_VERIFY=0) or cannot say. Whisper is prompted with the phrase
        alone."""
        s = self.settings
        if not s.wake_verify:
            return None, "not verified (GLASSES_WAKE_VERIFY=0)"
        try:
            res = await self.speech.asr(pcm, 16000, [s.wake_phrase.title()])
        except Exception as e:  # noqa: BLE001 (the detector's word stands)
            return None, "the recogniser could not say: %s: %s" % (type(e).__name__, e)
        text = str(res.get("text", ""))
        return says_word(text, s.wake_phrase), text

    def wake_stream(self, on_detect):
        try:
            self.settings.check("wake")
        except Unavailable:
            return None
        return self.speech.wake_stream(on_detect)
