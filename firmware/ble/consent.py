# Who may get in (docs/security.md): the pairing window and the squatter rule.
#
# Pairing window: new bonds are taken only while it is open: while no phone is bonded
# (out of the box, after forget-all) and for window_ms after the wearer's gesture; the
# first new bond closes it. Outside it the GATT peripheral keeps bonding off in the
# stack (ble.config(bond=False): a stranger's Just Works pairing gives an encrypted link
# without stored keys) and drops any central that encrypts without a bond it already had.
#
# Squatters: a central that is not on an encrypted link with a known bond within
# secure_ms of connecting is dropped, and its address is ignored (disconnected at once on
# connect) for a back-off that doubles with each strike, up to backoff_max_ms. At most
# MAX_TRACKED addresses are remembered (the least recent is forgotten first). The
# wearer's gesture ends every back-off (their new phone was most likely refused first).
#
# Sans-IO: the caller passes the time (ticks_ms) and does the disconnecting.
from micropython import const

MAX_TRACKED = const(8)
WINDOW_MS = const(60000)
SECURE_MS = const(5000)
BACKOFF_MIN_MS = const(5000)
BACKOFF_MAX_MS = const(300000)

# What was refused (counters and the "refused" event).
PAIRING = "pairing"  # a central encrypted without a bond while the window was closed
SQUATTER = "squatter"  # connected, not secured in time
IGNORED = "ignored"  # connected while its back-off ran


class Consent:
    def __init__(self, clock, window_ms=WINDOW_MS, secure_ms=SECURE_MS,
                 backoff_min_ms=BACKOFF_MIN_MS, backoff_max_ms=BACKOFF_MAX_MS):
        if secure_ms <= 0 or window_ms <= 0 or not 0 < backoff_min_ms <= backoff_max_ms:
            raise ValueError("consent: times must be > 0 and backoff_min <= backoff_max")
        self._ms = clock.ticks_ms
        self._diff = clock.ticks_diff
        self._add = clock.ticks_add
        self.window_ms = window_ms
        self.secure_ms = secure_ms
        self.backoff_min_ms = backoff_min_ms
        self.backoff_max_ms = backoff_max_ms
        self._until = None  # tick the gesture's window closes at (None: not opened)
        self._strikes = []  # [address bytes, until tick, backoff ms], least recent first
        self.counts = {PAIRING: 0, SQUATTER: 0, IGNORED: 0, "windows": 0, "new_bonds": 0}

    # ---- the window ----------------------------------------------------------------------
    def open(self):
        """The wearer's gesture: open (or extend) the window for window_ms. Back-offs end:
        the address struck for pairing outside the window is most likely the phone the
        wearer now means to pair."""
        self._until = self._add(self._ms(), self.window_ms)
        self._strikes = []
        self.counts["windows"] += 1

    def close(self):
        self._until = None

    def gesture_open(self):
        """Is the gesture's window open now?"""
        u = self._until
        return u is not None and self._diff(u, self._ms()) > 0

    def is_open(self, bonded_phones):
        return bonded_phones == 0 or self.gesture_open()

    def left_ms(self):
        """ms the gesture's window stays open (0: closed)."""
        u = self._until
        if u is None:
            return 0
        d = self._diff(u, self._ms())
        return d if d > 0 else 0

    def expired(self):
        """True once, when the gesture's window has run out (the caller closes it)."""
        u = self._until
        if u is not None and self._diff(u, self._ms()) <= 0:
            self._until = None
            return True
        return False

    def bonded(self):
        """A new bond was taken: the window closes."""
        self.counts["new_bonds"] += 1
        self._until = None

    # ---- squatters -----------------------------------------------------------------------
    def _find(self, addr):
        for i in range(len(self._strikes)):
            if self._strikes[i][0] == addr:
                return i
        return -1

    def blocked_ms(self, addr):
        """ms this address is still ignored for (0: it may connect)."""
        i = self._find(addr)
        if i < 0:
            return 0
        d = self._diff(self._strikes[i][1], self._ms())
        return d if d > 0 else 0

    def strike(self, addr, what):
        """addr was refused for `what` (PAIRING, SQUATTER, IGNORED): count it and grow its
        back-off. Returns the back-off in ms."""
        self.counts[what] += 1
        i = self._find(addr)
        if i >= 0:
            e = self._strikes.pop(i)
            ms = e[2] * 2
            if ms > self.backoff_max_ms:
                ms = self.backoff_max_ms
        else:
            ms = self.backoff_min_ms
            if len(self._strikes) >= MAX_TRACKED:
                self._strikes.pop(0)
        self._strikes.append([addr, self._add(self._ms(), ms), ms])
        return ms

    def forgive(self, addr):
        """addr got in properly (a bonded phone that was slow once)."""
        i = self._find(addr)
        if i >= 0:
            self._strikes.pop(i)

    def secure_by(self):
        """The tick by which a central connecting now must be secured."""
        return self._add(self._ms(), self.secure_ms)

    def passed(self, tick, now):
        return self._diff(now, tick) >= 0

    def until(self, tick, now):
        """ms from now to tick (0 once passed)."""
        d = self._diff(tick, now)
        return d if d > 0 else 0
