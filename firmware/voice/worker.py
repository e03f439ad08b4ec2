# The voice's worker task: one job at a time from its queue ("ask" after an utterance,
# "say" for a text), run against the phone (answer.py), and the wearer's timers rung
# between jobs. Functions of a Voice (service.py binds them as its methods), kept here so
# each file stays one idea.
from micropython import const

from firmware.protocol.rpc import RpcError
from firmware.voice import capture as C
from firmware.voice import chimes
from firmware.voice.answer import AnswerError
from firmware.voice.answer import ask_args as _ask_args
from firmware.voice.packet import PacketError

IDLE = const(0)
LISTENING = const(1)
THINKING = const(2)  # asked; waiting for the answer
ANSWERING = const(3)
SAYING = const(4)
STATE_NAMES = ("idle", "listening", "thinking", "answering", "saying")

ASK = const(0)  # a job: (ASK, first packet, last packet, why it ended)
SAY = const(1)  # (SAY, text)
_MAX_TEXT = const(160)  # characters of heard / answer text kept for the status


async def worker(self):
    while True:
        if not await self.jobs.wait(self.timers.next_ms()):
            self.actions.fire()
            continue
        job = self.jobs.get_nowait()
        if not self.muted:
            await self._run(job)


async def run(self, job):
    self.job = job
    self._abort = None
    a = self.answer
    try:
        if not self._link_up():
            self._abort = "link"
            raise AnswerError("phone not reachable")
        if job[0] == ASK:
            self.asks += 1
            self.state = THINKING
            await a.run("ask", self._ask_args(job), True, self._on_meta)
        else:
            self.says += 1
            self.state = SAYING
            await a.run("tts", {"text": job[1]}, False)
        if self._abort is None:
            self.answers += 1
    except (RpcError, AnswerError, PacketError) as e:
        self._failed(job, e)
    finally:
        self.job = None
        self._abort = None
        if self.capture.streaming:
            self.state = LISTENING
        else:
            self.state = IDLE if self.jobs.empty() else THINKING


def ask_args(self, job):
    args = _ask_args(job[1], job[2], C.END_NAMES[job[3]], self.app.latest.get("battery"))
    args["timers"], args["volume"] = self.actions.state()
    return args


def on_meta(self, meta):
    self.state = ANSWERING
    self.heard = str(meta.get("text", ""))[:_MAX_TEXT]
    self.said = str(meta.get("answer", ""))[:_MAX_TEXT]
    self.log.info("voice: heard", self.heard)
    audio = meta.get("audio")
    if isinstance(audio, dict) and audio.get("gaps"):
        self.log.warn("voice: phone filled lost audio packets", audio.get("gaps"))
    acts = meta.get("actions")
    if isinstance(acts, list):
        for act in acts:
            if isinstance(act, dict):
                self.actions.apply(act)


def stop_job(self, why, reason):
    a = self.answer
    if self.job is None or a is None:
        return
    self._abort = why
    a.cancel(reason)
    self.playback.stop()


def failed(self, job, e):
    why = self._abort
    self.playback.stop()
    if why == "muted" or why == "stopped":
        return  # the wearer did it: no error sound
    self._note_error("%s: %s" % ("ask" if job[0] == ASK else "say", e))
    pb = self.playback
    pb.play_chime(chimes.ERROR)
    pb.play_phrase()
    if why == "link" and job[0] == ASK and self.capture.hold(job[1]):
        self.kept += 1
        self.log.info("voice: query kept until the phone is back")
