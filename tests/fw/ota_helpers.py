# The OTA service on a virtual scheduler, with its real LinkService and a host Session
# joined through a frame pipe (the transport double below the link, as in linkpipe.py).
# Runs under CPython and MicroPython.
import sys

from fwtest import temp_root, virtual_scheduler

try:
    import machine  # noqa: F401
except ImportError:  # MicroPython's WebAssembly port has no machine module: the HAL
    class _Machine:  # below the line, as much of it as firmware/app.py's import needs
        pass

    sys.modules["machine"] = _Machine()

from firmware import app as _app  # noqa: E402
from firmware.hw import Board  # noqa: E402
from firmware.protocol import kinds  # noqa: E402
from firmware.protocol.channels import FILE  # noqa: E402
from firmware.ble.link import LinkService  # noqa: E402
from firmware.protocol.session import Session  # noqa: E402
from firmware.version import SECURITY  # noqa: E402
from firmware.ota import manifest  # noqa: E402
from firmware.runtime import sched as _s  # noqa: E402
from firmware.runtime.log import Log  # noqa: E402
from firmware.runtime.store import Store  # noqa: E402
from firmware.runtime.sync import Event, Flag  # noqa: E402
from firmware.ota.service import start as start_ota  # noqa: E402

K = kinds.K
FILES = [
    ("firmware/app.py", b"VERSION = '0.2.0'\n" + b"# app\n" * 300),
    ("firmware/runtime/sched.py", b"# scheduler v2\n" * 200),
    ("board.py", b"NAME = 'testboard'\n"),
    ("firmware/empty.py", b""),
]


def package(files=FILES, version="0.2.0", board=None, sig=None, security=SECURITY):
    """A package at the running firmware's security counter (security= for another)."""
    return manifest.envelope(manifest.build(version, files, board=board,
                                            security=security), sig)


class PipeGatt:
    """What LinkService needs of the GATT peripheral; frames go straight to the host."""

    def __init__(self):
        self.want_mtu = 247
        self.mtu = 247
        self.peer_key = None  # one phone, the boot session's
        self.on_frame = None
        self.on_link = None
        self.on_writable = None
        self.writable = Event()
        self.writable.set()
        self.host = None
        self.wake_host = None
        self.up = False
        self.blocked = False  # the radio takes nothing from the glasses for now
        self.frames_out = 0

    def send(self, frame):
        if not self.up or self.blocked:
            return False
        self.frames_out += 1
        self.host.feed(bytes(frame))
        self.wake_host.set()
        return True

    def disconnect(self):
        pass

    def stats(self):
        return {}


class Rig:
    def __init__(self, caps=("ble", "fuel_gauge"), options=None, config=None, battery=None,
                 root=None, link_kw=None):
        self.root = root or temp_root("otasvc")  # root: the same flash after a restart
        self.sched = virtual_scheduler(max_tasks=16, log=Log(32))
        self.clock = self.sched.clock
        b = Board("testboard", caps=caps, options=options)
        b.fs_root = self.root
        b.store = Store(self.root + "/data")
        self.board = b
        self.app = _app.App(self.sched, b, config=config)
        if battery is not None:
            self.app.latest["battery"] = battery
        self.gatt = PipeGatt()
        self.link = LinkService(self.sched, self.gatt, "0.1.0", "testboard", ("ota",),
                                **(link_kw or {}))
        self.app.link = self.link
        self.got = []  # host side: every message from the glasses, in order
        self.host = Session("host", self.clock, "host-1", ("ota",), self._host_send,
                            self._host_message, self._host_event, session_id=77,
                            outboxes=(8, 16, 8, 40, 8), outbox_bytes=(2048, 4096, 0, 16384, 2048))
        self.gatt.host = self.host
        self.host_wake = Flag(self.sched)
        self.gatt.wake_host = self.host_wake
        self.resets = []
        start_ota(self.app)
        self.ota = self.app.ota
        if self.ota is not None:
            self.ota.reset = lambda: self.resets.append(self.clock.ticks_ms())
        self.sched.spawn(self.link.run, name="link", prio=_s.PRIO_LINK)
        self.sched.spawn(self._host_task, name="host", prio=_s.PRIO_LINK)

    # ---- the host side ---------------------------------------------------------------------
    def _host_send(self, frame):
        if not self.gatt.up:
            return False
        self.link._on_frame(bytes(frame))
        return True

    def _host_message(self, ch, msg):
        self.got.append((ch, msg))
        return True

    def _host_event(self, kind, detail):
        self.host_wake.set()

    async def _host_task(self):
        while True:
            ms = self.host.poll()
            await self.host_wake.wait(ms if ms >= 0 else 100)

    def connect(self):
        self.gatt.on_link(True)  # the glasses' hello waits: the pipe is not up yet
        self.gatt.up = True
        self.host.link_up(247)
        self.link.wake.set()
        yield from self.steps(100)
        assert self.link.up and self.host.state == 2, "the sessions did not open"

    def send(self, msg, ch=FILE):
        ok = self.host.send(ch, msg)
        self.host_wake.set()
        return ok

    def steps(self, ms, slices=1):
        """Run the scheduler for ms of virtual time, a few task slices at a time, yielding
        in between (MicroPython's GC runs there: the heap budget is per step)."""
        clock = self.clock
        end = clock.elapsed_ms() + ms
        while True:
            wait = self.sched.step(slices)
            yield
            if wait == 0:
                continue
            left = end - clock.elapsed_ms()
            if left <= 0:
                return
            clock.advance_ms(left if wait < 0 or wait > left else wait)

    def replies(self, kind):
        return [m for _, m in self.got if m.get(K) == kind]

    # ---- a small sender ----------------------------------------------------------------------
    def begin(self, env, piece=700, tag=1):
        """Send the envelope in pieces; the OTA_STATE that answers it."""
        for off in range(0, len(env), piece):
            while not self.send({K: kinds.OTA_BEGIN, 1: len(env), 2: off,
                                 3: env[off:off + piece], 4: tag}):
                yield from self.steps(20)
        yield from self.steps(500)
        return self.replies(kinds.OTA_STATE)[-1]

    def send_files(self, offsets, files=FILES, chunk=300):
        for i, (_, data) in enumerate(files):
            off = offsets[i]
            while off < len(data):
                while not self.send({K: kinds.OTA_CHUNK, 1: i, 2: off,
                                     3: data[off:off + chunk]}):
                    yield from self.steps(20)
                off += chunk
        yield from self.steps(500)
