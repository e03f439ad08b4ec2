"""The phone's side of the voice path: what the glasses say comes in as audio packets,
the answer goes back as text and audio packets (docs/voice.md: the methods, their
arguments and their errors).

    phone = Phone(radio)
    voice = attach(phone)                   # virtual=True under the simulator's virtual time

attach() registers ask (the glasses' one streamed call per query), asr, assist and tts
on phone.rpc. The phone starts on a query before the glasses ask (endpoint.py, spec.py)
and decides about the wake word (wake.py). Every error is logged here (the phone's
announce, the `voice` logger, `messages`) and reaches the glasses as a typed RPC error.
"""
import asyncio
import logging
from collections import OrderedDict, deque

import host_tools  # noqa: F401  (MicroPython mirrors for the shared firmware code)
from firmware.voice import packet as P
from firmware.protocol.rpc import BadRequest, HandlerError, RpcError
from host_tools.voice import spec, steps
from host_tools.voice.collect import Pool
from host_tools.voice.compute import Compute
from host_tools.voice.endpoint import EV_END, EV_START, Live
from host_tools.voice.engines import Engines
from host_tools.voice.wake import Wake
from host_tools.phone.link import system_local_time
from host_tools.voice.packets import PacketEncoder

log = logging.getLogger("voice")

_MAX_META_TEXT = 300  # characters of heard / answer text in the answer's first chunk
_MAX_LIVE = 2
_LIVE_KEEP_S = 30.0  # an utterance nobody asked about is forgotten this long after its end


class VoiceHost:
    def __init__(self, phone, virtual=None, compute=None, speculate=True, endpoint_hints=True,
                 endpoint_ms=250, speculate_max_s=6.0, notifications=None, asr=None,
                 assist=None, tts=None,
                 asr_timeout_s=20.0, assist_timeout_s=30.0, tts_chunk_timeout_s=15.0,
                 quiet_s=0.3, max_gap_fraction=0.3, local_time=None, settings=None,
                 env=None, plugins=None, start_workers=None):
        self.phone = phone
        # () -> (unix s, UTC offset min): the phone's clock ("what time is it")
        self.local_time = local_time or getattr(phone, "local_time", system_local_time)
        if compute is None and virtual is not None:
            compute = "model" if virtual else "thread"
        self.compute = Compute(compute)
        self.engines = eng = Engines(self.compute, settings, env, plugins)
        self.asr = asr or eng.asr
        self.assist = assist or eng.assist
        self.tts = tts or eng.tts
        self.engines_wake = eng.wake_stream
        self.wake_said = eng.wake_said if asr is None else None  # None: the detector's word
        self.start_workers = start_workers  # None: in real time only
        self.deaf_until = 0.0  # loop time: wake detections before it are the glasses' own
        self.wakes = 0
        self.wake_drops = 0
        self.wake_rejects = 0  # detections the recogniser did not confirm (dropped too)
        self.speculate = speculate
        self.endpoint_hints = endpoint_hints
        self.endpoint_ms = endpoint_ms
        self.speculate_max_s = speculate_max_s  # commands are short; a ramble is not guessed
        self.notifications = notifications  # fn() -> [{"app", "title", "text"}], or None
        self.asr_timeout_s = asr_timeout_s
        self.assist_timeout_s = assist_timeout_s
        self.tts_chunk_timeout_s = tts_chunk_timeout_s
        self.quiet_s = quiet_s
        self.max_gap_fraction = max_gap_fraction
        self.pool = Pool()
        self.lives = OrderedDict()  # first seq -> Live
        self.context = {}  # battery_pct, charging, timers, volume: as the glasses last said
        self.out_seq = 0  # sequence numbers of the answers' packets
        self.messages = deque(maxlen=200)
        self.timings = deque(maxlen=50)  # per answered ask: where the time went
        self.asks = 0
        self.answered = 0
        self.failed = 0
        self.speculations = 0
        self.speculations_used = 0
        self.hints = 0

    # ---- wiring ----------------------------------------------------------------------
    def attach(self):
        p = self.phone
        p.on("audio", self.on_audio)
        p.on("event", self.on_event)
        p.rpc.register("ask", self.rpc_ask)
        p.rpc.register("asr", self.rpc_asr)
        p.rpc.register("assist", self.rpc_assist)
        p.rpc.register("tts", self.rpc_tts)
        start = self.start_workers
        if start is None:
            start = self.compute._mode == "thread"
        if start:
            try:
                asyncio.get_running_loop().create_task(self.engines.start())
            except RuntimeError:
                pass  # no loop yet: the first query starts them
        return self

    def note(self, text, error=False):
        self.messages.append(text)
        (log.warning if error else log.info)("%s", text)
        announce = getattr(self.phone, "announce", None)
        if announce is not None:
            announce("voice: " + text)

    # ---- what the phone receives --------------------------------------------------------
    def on_audio(self, pkt):
        seq = self.pool.add(pkt)
        if seq is None:
            self.note("audio packet of %d bytes has no header; dropped" % len(pkt), True)
            return
        if not self.speculate:
            return
        flags = P.flags(pkt)
        self._expire()
        if flags & P.F_START:  # an utterance begins (or is handed over again): hear it anew
            old = self.lives.pop(seq, None)
            if old is not None:
                self._forget(old)
            self.lives[seq] = Live(seq, self.endpoint_ms)
            self.lives[seq].last_rx = asyncio.get_running_loop().time()
            if flags & P.F_WAKE:
                self.lives[seq].wake = Wake(self, self.lives[seq])
            while len(self.lives) > _MAX_LIVE:
                _, old = self.lives.popitem(last=False)
                self._forget(old)
        live = None
        for lv in reversed(self.lives.values()):
            if lv.contains(seq):
                live = lv
                break
        if live is None or live.ended:
            return
        live.last_rx = asyncio.get_running_loop().time()
        n = len(live.frames)
        ev = live.feed(seq, pkt)
        wk = live.wake
        if wk is not None:
            for frame in live.frames[n:]:
                wk.feed(frame)
        if ev == EV_START:
            spec.drop(live)  # the speech goes on: the guess is wrong
        elif ev == EV_END:
            spec.drop(live)
            if wk is not None and wk.heard_ms is None:
                wk.on_quiet()
            elif len(live.frames) * 0.02 <= self.speculate_max_s:
                self._start_spec(live)
        if flags & P.F_END:
            live.ended = True
            if wk is not None and wk.heard_ms is not None:
                wk.close()

    def _expire(self):
        now = asyncio.get_running_loop().time()
        for first in [f for f, lv in self.lives.items() if now - lv.last_rx > _LIVE_KEEP_S]:
            self._forget(self.lives.pop(first))

    def on_event(self, topic, payload):
        pct = None
        if topic == "voice" and isinstance(payload, dict) and "held" in payload:
            self.note("the glasses kept a query from packet %s while away; it comes now"
                      % payload["held"])
        elif topic == "battery" and isinstance(payload, list) and len(payload) == 2 and \
                payload[0] in ("battery_low", "battery_critical"):
            pct = payload[1]  # firmware/sense/service.py's warnings
        if isinstance(pct, (int, float)) and not isinstance(pct, bool) and 0 <= pct <= 100:
            self.context["battery_pct"] = pct

    def _forget(self, live):
        spec.drop(live)
        if live.wake is not None:
            live.wake.close()

    async def close(self):
        """Let go of the utterances in flight: their guesses and wake streams."""
        while self.lives:
            self._forget(self.lives.popitem()[1])
        await Wake.closed()

    def _update_context(self, args):
        for key in ("timers", "volume"):
            if key in args:
                try:
                    self.engines.assistant().context.update({key: args[key]})
                    self.context[key] = args[key]  # compared with a guess's (spec.refresh)
                except Exception as e:  # noqa: BLE001 (a bad field is reported, not fatal)
                    self.note("ask: %s: %s" % (key, e), True)
        b = args.get("battery")
        if isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 100:
            self.context["battery_pct"] = b
        if "charging" in args:
            self.context["charging"] = bool(args["charging"])

    def _assist_context(self):
        ctx = dict(self.context)
        ctx["local_time"] = list(self.local_time())
        if self.notifications is not None:
            try:
                ctx["notifications"] = list(self.notifications())
            except Exception as e:
                self.note("notifications for the assistant: %s: %s" % (type(e).__name__, e),
                          True)
        return ctx

    # ---- the steps (steps.py: their timeouts and errors) --------------------------------
    async def _asr(self, pcm):
        return await steps.asr(self.asr, pcm, self.asr_timeout_s)

    async def _assist(self, res, ctx):
        """The assistant's reply to an ASR result (its text and confidence) or a text."""
        text, conf = (res.get("text", ""), res.get("confidence")) if isinstance(res, dict) \
            else (res, None)
        fn = self.assist
        if fn == self.engines.assist:
            def fn(t, c):
                return self.engines.assist(t, c, conf)
        return await steps.assist(fn, text, ctx, self.assist_timeout_s)

    def _is_command(self, res):
        """A whole command was heard: the phone may end the glasses' listening early."""
        if res.get("search") == "grammar":
            return True
        conf = res.get("confidence")
        if conf is not None and conf < self.engines.settings.confidence_floor:
            return False
        try:
            return self.engines.assistant().registry.match(res.get("text", ""))[0] is not None
        except Exception:  # noqa: BLE001 (no assistant: no hint)
            return False

    async def _tts_packets(self, text):
        """The answer's audio packets as the TTS produces them."""
        if not text:
            return
        enc = PacketEncoder(self.out_seq)
        gen = steps.tts_packets(self.tts, text, enc, self.compute, self.tts_chunk_timeout_s)
        try:
            async for pkt in gen:
                yield pkt
        finally:
            await gen.aclose()
            self.out_seq = enc.seq

    async def _audio(self, first, last):
        """(pcm, report) of packets first..last, once they are in (or lost)."""
        return await steps.audio(self.pool, first, last, self.quiet_s, self.max_gap_fraction)

    # ---- speculation (spec.py) ---------------------------------------------------------
    def _start_spec(self, live):
        spec.start(self, live)

    # ---- the RPC methods -------------------------------------------------------------
    async def rpc_ask(self, args):
        """The glasses' one call per query (a stream)."""
        loop = asyncio.get_running_loop()
        t_req = loop.time()
        gen = None
        first = last = None
        try:
            first, last = steps.span_of(args, "ask")
            self.asks += 1
            self._update_context(args)
            task = spec.usable(self, first, last)
            pcm, report = await self._audio(first, last)
            t_audio = loop.time()
            live = self.lives.get(first)
            if live is not None and live.wake is not None:
                pcm = await live.wake.query(pcm)
                if pcm is None:  # no wake word: the glasses missed the drop
                    yield {"text": "", "answer": "", "intent": "no_wake", "actions": [],
                           "audio": report}
                    return
            guess = None
            if task is not None:
                try:
                    guess = await task
                except asyncio.CancelledError:
                    guess = None
            ctx = self._assist_context()
            if guess is not None:
                self.speculations_used += 1
                res, reply, gen, pre, timing = await spec.refresh(self, guess, ctx)
            else:
                t0 = loop.time()
                res = await self._asr(pcm)
                t1 = loop.time()
                reply = await self._assist(res, ctx)
                t2 = loop.time()
                gen = self._tts_packets(reply.get("answer", ""))
                pre = []
                timing = {"asr_s": t1 - t0, "assist_s": t2 - t1, "hint": False}
            meta = {"text": str(res.get("text", ""))[:_MAX_META_TEXT],
                    "confidence": res.get("confidence"), "search": res.get("search"),
                    "answer": str(reply.get("answer", ""))[:_MAX_META_TEXT],
                    "intent": reply.get("intent"), "actions": reply.get("actions", []),
                    "audio": report}
            msg = "heard %r -> %r, %.2f s after the glasses asked (audio packets %d..%d)" % (
                meta["text"], meta["answer"], loop.time() - t_req, first, last)
            phrase = self.engines.settings.wake_phrase if self.engines._settings else None
            if phrase and phrase in meta["answer"].lower():  # its own voice says the word
                self.deaf_until = loop.time() + 0.08 * len(meta["answer"]) + 1.0
            if report["gaps"]:
                msg += " (%d of %d packets lost, filled with silence: %s)" % (
                    report["gaps"], report["packets"], report["gap_runs"])
            if report["duplicates"] or report["reordered"]:
                msg += " (%d duplicates, %d out of order)" % (report["duplicates"],
                                                             report["reordered"])
            self.note(msg)
            timing.update({"request": t_req, "audio_in": t_audio, "meta_out": loop.time(),
                           "speculated": guess is not None, "first": first, "last": last})
            self.timings.append(timing)
            yield meta
            n = 0
            for pkt in pre:
                n += 1
                yield pkt
            if gen is not None:
                async for pkt in gen:
                    n += 1
                    yield pkt
            timing["packets"] = n
            self.answered += 1
        except RpcError as e:
            self._failed("ask", first, last, e)
            raise
        except asyncio.CancelledError:
            self.note("query (audio packets %s..%s) cancelled: by the glasses, or past its timeout"
                      % (first, last), True)
            raise
        except Exception as e:
            err = HandlerError("ask: %s" % steps.why(e))
            self._failed("ask", first, last, err)
            raise err from None
        finally:
            if gen is not None:
                await gen.aclose()
            if first is not None:
                live = self.lives.pop(first, None)
                if live is not None:
                    self._forget(live)

    def _failed(self, what, first, last, e):
        self.failed += 1
        where = " %d..%d" % (first, last) if first is not None else ""
        self.note("%s%s failed: %s: %s" % (what, where, type(e).__name__, e), True)

    async def rpc_asr(self, args):
        try:
            first, last = steps.span_of(args, "asr")
            pcm, report = await self._audio(first, last)
            res = dict(await self._asr(pcm))
            res["audio"] = report
            return res
        except RpcError as e:
            self._failed("asr", None, None, e)
            raise

    async def rpc_assist(self, args):
        try:
            if not isinstance(args, dict) or not isinstance(args.get("text"), str):
                raise BadRequest("assist: args must be a map with the text")
            self._update_context(args)
            return await self._assist(args["text"], self._assist_context())
        except RpcError as e:
            self._failed("assist", None, None, e)
            raise

    async def rpc_tts(self, args):
        try:
            if not isinstance(args, dict) or not isinstance(args.get("text"), str):
                raise BadRequest("tts: args must be a map with the text")
            self.note("say %r" % args["text"][:_MAX_META_TEXT])
            async for pkt in self._tts_packets(args["text"]):
                yield pkt
        except RpcError as e:
            self._failed("tts", None, None, e)
            raise


def attach(phone, virtual=None, compute=None, **kw):
    """Serve the glasses' voice path on this Phone; returns the VoiceHost. Where the speech
    engines run (host_tools/voice/compute.py): compute="thread" (real time), "model" (the
    simulator's virtual time: their cost from a model, so a run repeats from its seed) or
    "measured" (virtual time, charged with the CPU time they really took: benches). By
    default from virtual (True: "model", False: "thread"), or, if that is None too, from
    the running loop (the simulator's VirtualTimeLoop) at the first job."""
    return VoiceHost(phone, virtual=virtual, compute=compute, **kw).attach()
