"""The speech services as child processes: each a Wyoming server on a unix socket in a
private folder, started on first use (or at the host's start), checked with describe ->
info, restarted when it died, stopped with the host (and by the kernel if the host dies
first: PR_SET_PDEATHSIG). Shared by every VoiceHost of a process (one set per settings).

A service the user runs already (settings: GLASSES_WYOMING_ASR / _TTS / _WAKE) is used
at its URI and never started or stopped here.

    w = worker_for(settings, "asr")
    await w.ready()          # Unavailable("asr: ...") with the reason if it cannot start
    w.uri, w.cpu_s()         # where to connect, CPU seconds the process used so far
"""
import asyncio
import atexit
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

from host_tools.voice.errors import Unavailable

READY_S = 60.0  # a cold start loads the model: ~1-3 s here, far more on a slow disk
_BACKOFF_S = (0.0, 0.5, 2.0, 5.0)  # between restarts of a worker that keeps dying
_lock = threading.Lock()
_workers = {}  # (settings key, kind) -> Worker
_dir = []


def _folder():
    if not _dir:
        _dir.append(tempfile.mkdtemp(prefix="glasses-voice-"))
    return _dir[0]


def log_tail(path):
    """The last non-empty line of a worker's log ("" without one): why it stopped."""
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 2000))
            lines = f.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    useful = [ln for ln in lines if ln.strip()]
    return useful[-1] if useful else ""


def die_with_parent(nice=5):
    """A worker's preexec_fn: it gets SIGTERM when the host dies, and runs below it."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    try:
        os.nice(nice)  # below the host and the radio: speech waits, the link does not
    except OSError:
        pass


def die_with_parent_not_niced():
    """The wake worker's: it is on the listening path (a late verdict drops a query) and
    cheap (~7 % of a core while speech streams), so it runs beside the host."""
    die_with_parent(0)


_spawner = None  # the one thread that starts workers (see _spawn)
_spawn_lock = threading.Lock()


def _spawn(argv, **kw):
    """subprocess.Popen from a thread that lives as long as the host: PR_SET_PDEATHSIG
    (die_with_parent) signals the child when the thread that forked it ends, not the
    process, so a worker started from a passing thread (asyncio.to_thread of a loop that
    then closes) would be killed with it."""
    global _spawner
    with _spawn_lock:
        if _spawner is None:
            from concurrent.futures import ThreadPoolExecutor
            _spawner = ThreadPoolExecutor(1, thread_name_prefix="glasses-worker-spawn")
    return _spawner.submit(subprocess.Popen, argv, **kw).result()


class Worker:
    def __init__(self, kind, argv=None, uri=None, what="", n=0):
        self.kind = kind  # "asr", "tts", "wake"
        self.argv = argv  # None: an external service at uri
        self.what = what  # what it is, for messages ("faster-whisper tiny.en")
        self.external = argv is None
        self.uri = uri or "unix://" + os.path.join(_folder(), "%s%d.sock" % (kind, n))
        self.proc = None
        self.log_path = os.path.join(_folder(), "%s%d.log" % (kind, n))
        self.starts = 0
        self.deaths = 0
        self.last_exit = None
        self._lock = threading.Lock()
        self._up = False

    def alive(self):
        return self.external or (self.proc is not None and self.proc.poll() is None)

    def pid(self):
        return None if self.external or self.proc is None else self.proc.pid

    def cpu_s(self):
        """CPU seconds (user + system, all threads) the worker process used so far; None
        for an external service."""
        pid = self.pid()
        if pid is None:
            return None
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def _tail(self):
        return log_tail(self.log_path)

    def start_sync(self, ready_s=READY_S):
        """Start the process if it is not running and wait until it answers describe.
        Blocking (the host calls it from a thread, or inline in virtual time)."""
        with self._lock:
            if self.external:
                if not self._up:
                    self._probe(ready_s)
                    self._up = True
                return
            if self.proc is not None and self.proc.poll() is None and self._up:
                return
            if self.proc is not None:
                self.deaths += 1
                self.last_exit = self.proc.poll()
                time.sleep(_BACKOFF_S[min(self.deaths - 1, len(_BACKOFF_S) - 1)])
            self._up = False
            path = self.uri[len("unix://"):]
            if os.path.exists(path):
                os.unlink(path)
            env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
            with open(self.log_path, "ab") as log:
                self.proc = _spawn(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=log, env=env,
                                   preexec_fn=die_with_parent_not_niced
                                   if self.kind == "wake" else die_with_parent)
            self.starts += 1
            end = time.monotonic() + ready_s
            while time.monotonic() < end:
                code = self.proc.poll()
                if code is not None:
                    raise Unavailable("%s: the %s worker exited (%s) at its start: %s"
                                      % (self.kind, self.what, code, self._tail()))
                if os.path.exists(path):
                    try:
                        self._probe(max(1.0, end - time.monotonic()))
                        self._up = True
                        return
                    except Unavailable:
                        pass
                time.sleep(0.05)
            self.stop()
            raise Unavailable("%s: the %s worker did not start within %g s: %s"
                              % (self.kind, self.what, ready_s, self._tail()))

    def _probe(self, timeout_s):
        """describe -> info over a blocking socket."""
        from wyoming.event import read_event, write_event
        from wyoming.info import Describe, Info
        import socket
        try:
            if self.uri.startswith("unix://"):
                s = socket.socket(socket.AF_UNIX)
                s.settimeout(timeout_s)
                s.connect(self.uri[len("unix://"):])
            elif self.uri.startswith("tcp://"):
                host, _, port = self.uri[len("tcp://"):].rpartition(":")
                s = socket.create_connection((host, int(port)), timeout=timeout_s)
            else:
                raise Unavailable("%s: unsupported Wyoming URI %r (unix:// or tcp://)"
                                  % (self.kind, self.uri))
            with s, s.makefile("rwb") as f:
                write_event(Describe().event(), f)
                f.flush()
                ev = read_event(f)
        except (OSError, ValueError) as e:
            raise Unavailable("%s: no Wyoming service at %s (%s)"
                              % (self.kind, self.uri, e)) from None
        if ev is None or not Info.is_type(ev.type):
            raise Unavailable("%s: %s did not answer describe with info" % (self.kind,
                                                                            self.uri))

    async def ready(self):
        """Started and answering (in a thread while the loop runs in real time; inline
        under the simulator's virtual time, which stands still meanwhile)."""
        if self._up and self.alive():
            return
        loop = asyncio.get_running_loop()
        hold = getattr(loop, "hold", None)
        if hold is not None:
            with hold():
                self.start_sync()
        else:
            await asyncio.to_thread(self.start_sync)

    def died(self):
        """The worker is gone (a request saw the connection drop): next ready() restarts."""
        self._up = False

    def stop(self):
        p = self.proc
        self._up = False
        if p is None or p.poll() is not None:
            return
        p.terminate()
        try:
            p.wait(3)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(3)


def argv_for(settings, kind):
    py = sys.executable
    if kind == "asr":
        if settings.asr_server == "wyoming-faster-whisper":
            return [py, "-m", "wyoming_faster_whisper", "--uri", "{uri}", "--model",
                    settings.asr_model_dir, "--data-dir", _folder(), "--download-dir",
                    _folder(), "--stt-library", "faster-whisper", "--language", "en",
                    "--device", "cpu", "--compute-type", "int8", "--beam-size", "1",
                    "--cpu-threads", str(settings.threads), "--local-files-only"]
        return [py, "-m", "host_tools.voice.asr_server", "--uri", "{uri}", "--model",
                settings.asr_model_dir, "--threads", str(settings.threads)]
    if kind == "tts":
        argv = [py, "-m", "wyoming_piper", "--uri", "{uri}", "--voice", settings.tts_voice,
                "--data-dir", os.path.dirname(settings.tts_voice), "--download-dir",
                _folder(), "--length-scale", str(settings.tts_length_scale)]
        if settings.tts_deterministic:  # no generator noise: the same text, the same audio
            argv += ["--noise-scale", "0", "--noise-w-scale", "0"]
        return argv
    if kind == "light":
        return [py, "-m", "host_tools.voice.light_server", "--uri", "{uri}"]
    argv = [py, "-m", "host_tools.voice.wake_server", "--uri", "{uri}", "--engine",
            settings.wake_engine, "--model", settings.wake_word]
    if settings.wake_cutoff is not None:
        argv += ["--cutoff", str(settings.wake_cutoff)]
    return argv


def worker_for(settings, kind):
    """The process-wide Worker of this kind for these settings."""
    external = settings.uri(kind)
    key = (settings.key(kind), kind)
    with _lock:
        w = _workers.get(key)
        if w is None:
            if external:
                w = Worker(kind, None, external, settings.describe(kind))
            else:
                w = Worker(kind, None, None, settings.describe(kind), n=len(_workers))
                w.external = False
                w.argv = [a.replace("{uri}", w.uri) for a in argv_for(settings, kind)]
            _workers[key] = w
        return w


def stop_all():
    with _lock:
        for w in _workers.values():
            if not w.external:
                w.stop()


atexit.register(stop_all)
