"""The voice host's steps, each under its timeout and with its errors made typed RPC
errors for the glasses: the utterance's audio out of the packet pool, speech recognition,
the assistant, the answer's audio packets from the TTS. (host.py runs them.)"""
import asyncio

from firmware.protocol.rpc import BadRequest, HandlerError, RpcError
from host_tools.voice.collect import RATE, AudioError, span


def why(e):
    return "%s: %s" % (type(e).__name__, e)


async def asr(engine, pcm, timeout_s):
    try:
        return await asyncio.wait_for(engine(pcm, RATE), timeout_s)
    except (asyncio.TimeoutError, TimeoutError):
        raise HandlerError("asr: timed out after %g s" % timeout_s) from None
    except RpcError:
        raise
    except Exception as e:
        raise HandlerError("asr failed: %s" % why(e)) from None


async def assist(engine, text, ctx, timeout_s):
    try:
        return dict(await asyncio.wait_for(engine(text, ctx), timeout_s))
    except (asyncio.TimeoutError, TimeoutError):
        raise HandlerError("assist: timed out after %g s" % timeout_s) from None
    except RpcError:
        raise
    except Exception as e:
        raise HandlerError("assist failed: %s" % why(e)) from None


async def audio(pool, first, last, quiet_s, max_gap_fraction):
    """(pcm, report) of packets first..last, once they are in (or lost)."""
    try:
        span(first, last)
    except AudioError as e:
        raise BadRequest(str(e)) from None
    await pool.wait_range(first, last, quiet_s)
    try:
        pcm, report = pool.assemble(first, last)
    except AudioError as e:
        raise HandlerError("audio: %s" % e) from None
    if report["received"] == 0:
        raise HandlerError("audio: none of the utterance's %d packets arrived"
                           % report["packets"])
    if report["gaps"] > max_gap_fraction * report["packets"]:
        raise HandlerError("audio: %d of %d packets were lost (more than %d %%): too little "
                           "to understand" % (report["gaps"], report["packets"],
                                              round(100 * max_gap_fraction)))
    return pcm, report


async def tts_packets(engine, text, enc, compute, timeout_s):
    """The audio packets of text (enc: the PacketEncoder, numbering them) as the TTS
    produces its chunks, each within timeout_s."""
    it = engine(text).__aiter__()
    n = 0
    try:
        while True:
            try:
                chunk = await asyncio.wait_for(it.__anext__(), timeout_s)
            except StopAsyncIteration:
                break
            except (asyncio.TimeoutError, TimeoutError):
                raise HandlerError("tts: stream stopped after %d chunks: no audio for %g s"
                                   % (n, timeout_s)) from None
            except RpcError:
                raise
            except Exception as e:
                w = why(e)
                if "stream stopped" in w:
                    raise HandlerError(w) from None
                raise HandlerError("tts: stream stopped after %d chunks: %s" % (n, w)) \
                    from None
            n += 1
            for pkt in await compute.run("encode", enc.feed, chunk, cost=encode_cost(chunk)):
                yield pkt
        for pkt in enc.finish():
            yield pkt
    finally:
        await it.aclose()


def span_of(args, what):
    """(first, last) packet numbers of a request's args; BadRequest otherwise."""
    if not isinstance(args, dict):
        raise BadRequest("%s: args must be a map with first and last packet numbers" % what)
    first, last = args.get("first"), args.get("last")
    try:
        span(first, last)
    except AudioError as e:
        raise BadRequest("%s: %s" % (what, e)) from None
    return first, last


def encode_cost(chunk):
    """ADPCM on a phone: native code, ~0.5 % of real time (model mode)."""
    s = len(chunk) / 32000
    return lambda _r: 0.005 * s
