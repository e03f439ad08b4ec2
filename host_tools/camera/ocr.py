"""Offline "read this": the text in a saved photo, read by RapidOCR in a worker process
(host_tools/camera/ocr_worker.py), made into a sentence for the glasses to say.

The worker is started on the first photo to read and kept for the next ones; one job at
a time (a second waits, a third is turned away), each with a timeout. A worker that
times out is killed; one that dies mid-job is reaped; either way that photo's answer says
so and the next job starts a fresh worker. The host's event loop only waits (in a
thread, on the pipes); the compute is the worker's.

    GLASSES_OCR_TIMEOUT_S   seconds per photo (default 30; the worker's start not counted)
    GLASSES_OCR_MODELS_DIR  the folder of the three ONNX models (default: the models
                            folder inside the installed rapidocr-onnxruntime wheel)
    GLASSES_OCR_MIN_SCORE   a line recognised with a lower confidence is left out (0.6)
"""
import asyncio
import atexit
import json
import os
import select
import struct
import subprocess
import sys
import tempfile
import threading
import time

from host_tools.errors import OcrError

READ_ASK = "read this"  # the photo's "ask" that sends it to the text reader
READY_S = 60.0  # the worker's start: importing OpenCV and onnxruntime, loading the models
MAX_CHARS = 300  # what is said of a long text (the glasses say at most 400 characters)
MAX_WAITING = 2  # photos being read or waiting to be; more are turned away
NO_TEXT = "I don't see any text to read."
BUSY = "I'm still reading the last photos; ask me again in a moment."
_shared = {}  # settings -> TextReader (TextReader.from_env)
_shared_lock = threading.Lock()
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class _Died(Exception):
    pass


class OcrWorker:
    """The worker process and its pipes. job(jpeg) -> [[text, score, x, y]] or OcrError."""

    def __init__(self, models_dir=None, timeout_s=30.0, ready_s=READY_S):
        self.models_dir = models_dir
        self.timeout_s = float(timeout_s)
        self.ready_s = ready_s
        self.proc = None
        self.starts = 0
        self.deaths = 0  # timed out or died mid-job
        self.sent = threading.Event()  # set while a photo is with the worker (tests)
        self._lock = threading.Lock()
        self._log = None

    def pid(self):
        return None if self.proc is None else self.proc.pid

    def _start(self):
        from host_tools.voice.workers import die_with_parent  # the speech workers' recipe
        if self._log is None:
            fd, self._log = tempfile.mkstemp(prefix="glasses-ocr-", suffix=".log")
            os.close(fd)
            atexit.register(self.close)
        env = dict(os.environ, PYTHONUNBUFFERED="1",
                   PYTHONPATH=os.pathsep.join([_ROOT] + [p for p in [
                       os.environ.get("PYTHONPATH")] if p]))
        argv = [sys.executable, "-m", "host_tools.camera.ocr_worker",
                "--models", self.models_dir or ""]
        with open(self._log, "ab") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=log, bufsize=0, env=env,
                                         preexec_fn=die_with_parent)
        self.starts += 1
        try:
            msg = self._recv(time.monotonic() + self.ready_s)
        except TimeoutError:
            self._kill()
            raise OcrError("the text reader did not start within %g s" % self.ready_s) from None
        except _Died:
            raise OcrError("the text reader stopped at its start (exit code %s)%s"
                           % (self._reap(), self._tail())) from None
        if "error" in msg:
            self._reap()
            raise OcrError(msg["error"])

    def _tail(self):
        from host_tools.voice.workers import log_tail
        t = log_tail(self._log)
        return ": " + t if t else ""

    def _send(self, body, deadline):
        fd = self.proc.stdin.fileno()
        data = memoryview(struct.pack(">I", len(body)) + body)
        while data:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            if not select.select([], [fd], [], left)[1]:
                continue
            try:
                data = data[os.write(fd, data[:65536]):]
            except (BrokenPipeError, OSError):
                raise _Died from None

    def _read(self, n, deadline):
        fd = self.proc.stdout.fileno()
        buf = b""
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            if not select.select([fd], [], [], left)[0]:
                continue
            chunk = os.read(fd, n - len(buf))
            if not chunk:
                raise _Died
            buf += chunk
        return buf

    def _recv(self, deadline):
        n = struct.unpack(">I", self._read(4, deadline))[0]
        try:
            return json.loads(self._read(n, deadline))
        except ValueError:
            raise _Died from None

    def _reap(self):
        p, self.proc = self.proc, None
        if p is None:
            return None
        for f in (p.stdin, p.stdout):
            try:
                f.close()
            except OSError:
                pass
        try:
            return p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            return p.wait(5)

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        return self._reap()

    def job(self, jpeg):
        """The text lines of one JPEG, in reading order (blocking: call from a thread)."""
        with self._lock:
            if self.proc is None or self.proc.poll() is not None:
                if self.proc is not None:
                    self._reap()
                self._start()
            deadline = time.monotonic() + self.timeout_s
            try:
                self._send(jpeg, deadline)
                self.sent.set()
                msg = self._recv(deadline)
            except TimeoutError:
                self.deaths += 1
                self._kill()
                raise OcrError("reading took longer than %g seconds" % self.timeout_s) from None
            except _Died:
                self.deaths += 1
                raise OcrError("the text reader stopped (exit code %s)" % self._reap()) from None
            finally:
                self.sent.clear()
            if "error" in msg:
                raise OcrError(msg["error"])
            return msg["lines"]

    def close(self):
        """Stop the worker (closing its stdin ends it; killed if it does not end)."""
        p = self.proc
        if p is None:
            return
        try:
            p.stdin.close()
            p.wait(3)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self._kill()


def speech(lines, min_score=0.6, max_chars=MAX_CHARS):
    """What the glasses say of the lines read: the text of those at or above min_score,
    shortened (and said to be) past max_chars; NO_TEXT when none is left."""
    kept = [ln[0] for ln in lines if ln[1] >= min_score and ln[0].strip()]
    if not kept:
        return NO_TEXT
    text = " ".join(" ".join(kept).split())
    if len(text) <= max_chars:
        return "It says: %s" % text
    cut = text[:max_chars].rsplit(" ", 1)[0] or text[:max_chars]
    return "It says: %s ... The text goes on; I shortened it. The photo is in your " \
           "gallery." % cut


class TextReader:
    """The "read this" answer for a JPEG: answer() blocking, answer_async() from the loop."""

    def __init__(self, worker=None, min_score=0.6, max_chars=MAX_CHARS):
        self.worker = worker or OcrWorker()
        self.min_score = min_score
        self.max_chars = max_chars
        self.waiting = 0

    @classmethod
    def from_env(cls, env=None):
        """The process's reader for these settings: shared by every CameraHost (a host
        makes one per link session), so there is one worker process per settings."""
        env = os.environ if env is None else env
        key = (env.get("GLASSES_OCR_MODELS_DIR") or None,
               float(env.get("GLASSES_OCR_TIMEOUT_S") or 30),
               float(env.get("GLASSES_OCR_MIN_SCORE") or 0.6))
        with _shared_lock:
            if key not in _shared:
                _shared[key] = cls(OcrWorker(key[0], key[1]), key[2])
            return _shared[key]

    def answer(self, jpeg):
        """What to say: the text, "no text", or an honest sentence why there is none."""
        try:
            return speech(self.worker.job(jpeg), self.min_score, self.max_chars)
        except OcrError as e:
            return "I couldn't read that: %s. The photo is in your gallery." % e

    async def answer_async(self, jpeg):
        """answer() in a thread (it only waits on the worker's pipes); under the
        simulator's virtual time the clock stands still meanwhile (sim/kernel.py)."""
        if self.waiting >= MAX_WAITING:
            return BUSY
        self.waiting += 1
        try:
            hold = getattr(asyncio.get_running_loop(), "hold", None)
            if hold is None:
                return await asyncio.to_thread(self.answer, jpeg)
            with hold(self.worker.timeout_s + self.worker.ready_s + 5):
                return await asyncio.to_thread(self.answer, jpeg)
        finally:
            self.waiting -= 1

    def close(self):
        self.worker.close()
