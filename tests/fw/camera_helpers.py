# The camera feature on a virtual scheduler: its real service, photo store and sync over a
# real LinkService, and a small phone on a host Session at the other end of a frame pipe
# (the transport double below the link); the camera module is camera_double (below the
# HAL). Runs under CPython and MicroPython.
import hashlib
import sys

import camera_double
from fwtest import temp_root, virtual_scheduler

try:
    import machine  # noqa: F401
except ImportError:  # MicroPython's WebAssembly port has no machine module
    class _Machine:
        pass

    sys.modules["machine"] = _Machine()

from firmware import app as _app  # noqa: E402
from firmware.ble.link import LinkService  # noqa: E402
from firmware.camera import service as camera_service  # noqa: E402
from firmware.drivers.led import Led  # noqa: E402
from firmware.hw import Board  # noqa: E402
from firmware.protocol import kinds  # noqa: E402
from firmware.protocol.channels import FILE  # noqa: E402
from firmware.protocol.session import Session  # noqa: E402
from firmware.runtime import sched as _s  # noqa: E402
from firmware.runtime.log import Log  # noqa: E402
from firmware.runtime.store import Store  # noqa: E402
from firmware.runtime.sync import Event, Flag  # noqa: E402
from firmware.sense.service import Senses  # noqa: E402

K = kinds.K
SPEC = {"xclk": 10, "pclk": 13, "vsync": 38, "href": 47, "sda": 40, "scl": 39,
        "data": (15, 17, 18, 16, 14, 12, 11, 48), "frame": "VGA", "quality": 80}


class _Pin:
    """A GPIO's output latch (the pin the LED driver drives)."""

    def __init__(self):
        self.v = 0

    def value(self, v=None):
        if v is None:
            return self.v
        self.v = v
        return None


class PipeGatt:
    def __init__(self):
        self.want_mtu = 247
        self.mtu = 247
        self.peer_key = None
        self.on_frame = None
        self.on_link = None
        self.on_writable = None
        self.writable = Event()
        self.writable.set()
        self.host = None
        self.wake_host = None
        self.up = False
        self.tap = None  # tap(frame) -> False: cut the link before this frame

    def send(self, frame):
        if not self.up:
            return False
        b = bytes(frame)
        if self.tap is not None and self.tap(b) is False:
            return False
        self.host.feed(b)
        self.wake_host.set()
        return True

    def disconnect(self):
        pass

    def stats(self):
        return {}


class Phone:
    """The phone's side of the photo protocol, as host_tools/camera does it (held bytes
    per photo; a whole, checked photo gets PHOTO_DONE ok)."""

    def __init__(self):
        self.offers = []
        self.held = {}  # id -> bytearray
        self.saved = {}  # id -> bytes
        self.refuse = None  # text: answer PHOTO_DONE not ok with it
        self.data_msgs = 0

    def on_message(self, rig, msg):
        k = msg.get(K)
        if k == kinds.PHOTO_OFFER:
            i = msg[1]
            self.offers.append(msg)
            if i in self.saved:
                rig.send({K: kinds.PHOTO_DONE, 1: i, 2: True, 3: "have it"})
                return
            self.size = msg[2]
            self.sha = msg[3]
            rig.send({K: kinds.PHOTO_WANT, 1: i, 2: len(self.held.setdefault(i, bytearray()))})
        elif k == kinds.PHOTO_DATA:
            self.data_msgs += 1
            i, off, data = msg[1], msg[2], msg[3]
            h = self.held.setdefault(i, bytearray())
            if off != len(h):
                return  # a repeat (or a gap: the next offer says where from)
            h.extend(data)
            if len(h) == self.size:
                if self.refuse:
                    rig.send({K: kinds.PHOTO_DONE, 1: i, 2: False, 3: self.refuse})
                    del self.held[i]
                    return
                ok = hashlib.sha256(bytes(h)).digest() == self.sha
                if ok:
                    self.saved[i] = bytes(h)
                del self.held[i]
                rig.send({K: kinds.PHOTO_DONE, 1: i, 2: ok, 3: None})


class Rig:
    def __init__(self, config=None, led=True, options=None, root=None, worn=True):
        self.root = root or temp_root("camsvc")
        self.sched = virtual_scheduler(max_tasks=16, log=Log(48))
        self.clock = self.sched.clock
        b = Board("testboard", caps=("ble", "camera"), options=options)
        b.fs_root = self.root
        b.store = Store(self.root + "/data")
        b.capture_led = Led(_Pin()) if led else None
        b.camera = camera_double.make(SPEC)
        self.cam = b.camera.cam  # the module's object (camera_double.Camera)
        self.cam.led = b.capture_led
        self.board = b
        self.app = _app.App(self.sched, b, config=config)
        self.app.senses = Senses(self.app)
        self.app.senses.listen()
        if worn:
            self.wear(True)
        self.gatt = PipeGatt()
        self.link = LinkService(self.sched, self.gatt, "0.1.0", "testboard", ("camera",))
        self.app.link = self.link
        self.phone = Phone()
        self.new_host()
        self.host_wake = Flag(self.sched)
        self.gatt.wake_host = self.host_wake
        self.svc = camera_service.start(self.app)
        self.app.camera = self.svc
        self.sched.spawn(self.link.run, name="link", prio=_s.PRIO_LINK)
        self.sched.spawn(self._host_task, name="host", prio=_s.PRIO_LINK)

    def new_host(self, session_id=77):
        """The phone's session (a new id: the phone restarted)."""
        self.host = Session("host", self.clock, "host-1", ("camera",), self._host_send,
                            self._host_message, lambda kind, detail: None,
                            session_id=session_id)
        self.gatt.host = self.host

    def wear(self, on):
        t = self.clock.ticks_ms()
        n = 2000 if on else 100
        self.app.emit("prox", n, t)
        self.app.emit("prox", n, self.clock.ticks_add(t, 6000))

    def _host_send(self, frame):
        if not self.gatt.up:
            return False
        self.link._on_frame(bytes(frame))
        return True

    def _host_message(self, ch, msg):
        self.phone.on_message(self, msg)
        return True

    async def _host_task(self):
        while True:
            ms = self.host.poll()
            await self.host_wake.wait(ms if ms >= 0 else 100)

    def send(self, msg, ch=FILE):
        ok = self.host.send(ch, msg)
        self.host_wake.set()
        return ok

    def connect(self):
        self.gatt.on_link(True)
        self.gatt.up = True
        self.host.link_up(247)
        self.link.wake.set()
        yield from self.steps(200)
        assert self.link.up, "the sessions did not open"

    def drop(self):
        self.gatt.up = False
        self.gatt.on_link(False)
        self.host.link_down()
        self.link.wake.set()

    def steps(self, ms, slices=1):
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
