# Who is on the glasses' one connection, and whether the link service is open to it:
# the connection's security state and the consent rules (consent.py) applied to it.
# Sans-IO: the GATT peripheral (gatt.py) feeds it the radio's events and carries out the
# actions it returns (a bit set: disconnect, advertise, switch the stack's bonding).
#
#   authorised   encrypted with a bond the glasses already had, or one taken while the
#                pairing window was open: the link service is open (nothing before)
#   refused      encrypted without such a bond (a stranger's pairing outside the window):
#                disconnected at once, its address struck (consent.py)
#   squatter     connected and not authorised within consent.secure_ms: disconnected,
#                struck; while its back-off runs it is disconnected as soon as it connects
# A bonded phone's address is never struck. Events (firmware/runtime/observe.py):
#   "pairing" (open, why)   the window opened ("gesture", "no phones") or closed
#                           ("bonded", "timeout", "forgotten")
#   "refused" (what, addr)  consent.PAIRING / SQUATTER / IGNORED, once per connection
#   "forgotten" (key)       a phone's bond went (None: every phone's)
from micropython import const

from firmware.ble.bonds import bond_key
from firmware.ble.consent import IGNORED, PAIRING, SQUATTER
from firmware.runtime.observe import Emitter

A_DISCONNECT = const(1)
A_ADVERTISE = const(2)  # advertise again from the fast phase (a central went)
A_PAYLOAD = const(4)  # the pairing state changed: refresh what is advertised
A_BOND_ON = const(8)  # let the stack take new bonds (ble.config(bond=True))
A_BOND_OFF = const(16)
A_LINK = const(32)  # `authorised` changed


class Access(Emitter):
    EVENTS = ("pairing", "refused", "forgotten")

    def __init__(self, consent, bonds, log=None):
        Emitter.__init__(self)
        self.consent = consent
        self.bonds = bonds
        self.log = log
        self.conn = -1
        self.connected = False
        self.peer = None  # (addr_type, address bytes) of the central
        self.key = None  # its bond key (bonds.bond_key), once it is authorised
        self.encrypted = False
        self.authenticated = False
        self.bonded = False
        self.authorised = False
        self._dropping = False  # being disconnected by us: nothing more to decide
        self._secure_by = 0
        self._known = False  # the central's address had a bond when it connected
        self._open = self.window_open()  # the window's state the stack was told last

    # ---- the window ----------------------------------------------------------------------
    def window_open(self):
        return self.consent.is_open(len(self.bonds.peers()))

    def _window_changed(self, why):
        now = self.window_open()
        if now == self._open:
            return 0
        self._open = now
        self.emit("pairing", now, why)
        return A_PAYLOAD | (A_BOND_ON if now else A_BOND_OFF)

    def open_window(self):
        """The wearer's gesture."""
        self.consent.open()
        was = self._open
        a = self._window_changed("gesture")
        if was:  # already open (no phone bonded, or extended): say so again
            self.emit("pairing", True, "gesture")
        return a

    def bonding_wanted(self):
        """What the stack's bonding should be now (for start-up)."""
        return self._open

    # ---- the connection ------------------------------------------------------------------
    def connect(self, conn, addr_type, addr):
        """A central connected. A second one while we have one is dropped (returns
        A_DISCONNECT with conn untouched: the caller disconnects that handle)."""
        if self.connected:
            return A_DISCONNECT
        self.conn = conn
        self.connected = True
        self.peer = (addr_type, addr)
        self.key = None
        self.encrypted = self.authenticated = self.bonded = self.authorised = False
        self._dropping = False
        self.bonds.new_key = None
        self._known = self.bonds.has_peer(bond_key(addr_type, addr))
        if not self._known and self.consent.blocked_ms(addr) > 0:
            self._drop(IGNORED)
            return A_DISCONNECT
        self._secure_by = self.consent.secure_by()
        return 0

    def disconnect(self, conn):
        """Returns the actions; 0 for a connection that is not ours."""
        if conn != self.conn:
            return 0
        was = self.authorised
        self.conn = -1
        self.connected = self.encrypted = self.authenticated = self.bonded = False
        self.authorised = self._dropping = False
        self.peer = None
        self.key = None
        return A_ADVERTISE | (A_LINK if was else 0)

    def encryption(self, enc, auth, bonded):
        was = self.authorised
        self.encrypted = enc
        self.authenticated = auth
        self.bonded = bonded
        if self._dropping:
            return 0
        a = 0
        if enc and bonded:
            new = self.bonds.new_key
            if self._known:  # a phone the glasses were bonded with before it connected
                self.key = bond_key(self.peer[0], self.peer[1])
            elif self._open:  # a new bond, taken with the wearer's consent
                self.key = new if new is not None else bond_key(self.peer[0], self.peer[1])
                self.consent.bonded()
                a |= self._window_changed("bonded")
            else:  # keys taken outside the window: they go again
                if new is not None:
                    self.bonds.forget_peer(new)
                    self.bonds.new_key = None
                return self._refuse(PAIRING)
            self.authorised = True
            self.consent.forgive(self.peer[1])
        elif enc:  # encrypted, no bond: a pairing the window did not allow
            return self._refuse(PAIRING)
        else:
            self.authorised = False
        return a | (A_LINK if self.authorised != was else 0)

    def _refuse(self, what):
        was = self.authorised
        self.authorised = False
        self._drop(what)
        return A_DISCONNECT | (A_LINK if was else 0)

    def _drop(self, what):
        self._dropping = True
        addr = self.peer[1]
        ms = self.consent.strike(addr, what)
        self.emit("refused", what, addr)
        if self.log is not None:
            self.log.warn("link: refused a central (%s); ignoring it for %d s"
                          % (what, ms // 1000), _hex(addr))

    # ---- time ----------------------------------------------------------------------------
    def tick(self, now):
        """Deadlines: the squatter rule, the window's end."""
        a = 0
        c = self.consent
        if self.connected and not self.authorised and not self._dropping and \
                c.passed(self._secure_by, now):
            self._drop(SQUATTER)
            a |= A_DISCONNECT
        if c.expired():
            a |= self._window_changed("timeout")
        return a

    def wait_ms(self, now):
        """ms until tick() has something to do (-1: nothing)."""
        c = self.consent
        w = c.left_ms() if c.gesture_open() else -1
        if self.connected and not self.authorised and not self._dropping:
            d = c.until(self._secure_by, now)
            w = d if w < 0 or d < w else w
        return w

    # ---- forgetting ------------------------------------------------------------------------
    def forget(self, key=None):
        """Drop one phone's bond (key), or every phone's (None). The connected central
        goes if it was one of them."""
        b = self.bonds
        if key is None:
            b.clear()
        else:
            b.forget_peer(key)
        b.save()
        self.emit("forgotten", key)
        a = self._window_changed("forgotten")
        if self.connected and (key is None or key == self.key):
            was = self.authorised
            self.authorised = self.bonded = False
            self._dropping = True
            a |= A_DISCONNECT | (A_LINK if was else 0)
        return a


def _hex(b):
    out = ""
    for x in b:
        out += "%02X" % x
    return out
