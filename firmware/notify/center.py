# The notification centre on the glasses: a bounded queue persisted to flash, the rules
# that decide when and how a notification is presented, and the user's view of the queue
# (the current notification, reading, navigating, removing).
#
# Every received notification gets a reply for the host (wire.REPLY): accepted / cut /
# duplicate / rejected(reason) / dropped(reason), plus dropped(other id, reason) for each
# older one evicted to make room.
#
# Flash (firmware.runtime.store, atomic writes), one file per notification:
#   note<seq>  [seq, state, notification (model.to_wire)]
#   center     {"seen": [recently removed or dropped ids], "rules": rules}
# state is NEW (nothing presented), ANNOUNCED (chime + "App: Title" said) or READ (the
# body was spoken). A state is written BEFORE the presenter speaks, so a reset can never
# make the glasses say the same thing twice; at worst something marked as said was cut
# off by the reset, and it stays in the queue, readable with a tap.
#
# Eviction when the queue is full: the least valuable entry goes first: lowest priority,
# then already read before unread, then oldest. A new notification less important than
# everything waiting is itself dropped; on a tie the new one wins.
from firmware.notify import model as M
from firmware.notify import presentation as P
from firmware.notify import rules as R
from firmware.notify import wire as W
from firmware.runtime.store import StoreError, StoreFull

NEW = 0
ANNOUNCED = 1
READ = 2
STATE_NAMES = ("new", "announced", "read")

_NOTE = "note"
_META = "center"


def seq_of(name, prefix):
    """The number in a file name like note12, or -1."""
    if not name.startswith(prefix) or len(name) == len(prefix):
        return -1
    try:
        return int(name[len(prefix):])
    except ValueError:
        return -1


class Entry:
    def __init__(self, seq, note, state):
        self.seq = seq
        self.note = note
        self.state = state

    def __repr__(self):
        return "<Entry %d %s %s>" % (self.seq, self.note.id, STATE_NAMES[self.state])


class Center:
    def __init__(self, store, presenter, rules=None, max_entries=12, seen_max=32,
                 limits=None, local_minute=None, log=None):
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        self.store = store
        self.p = presenter
        self.max_entries = max_entries
        self.seen_max = seen_max
        self.limits = limits
        self.local_minute = local_minute  # () -> local minute of the day, or None
        self.log = log
        self.rules = R.check_rules(R.DEFAULT_RULES if rules is None else rules)
        self.entries = []  # arrival order
        self.seen = []  # ids removed or dropped lately: a resend is a duplicate
        self.worn = False
        self.cur = -1  # seq of the current notification (-1: none chosen)
        self._seq = 1
        self.lost = 0  # unreadable files found at load
        self._load()

    # ---- flash ------------------------------------------------------------------------
    def _warn(self, msg, a=None, b=None):
        if self.log is not None:
            self.log.warn(msg, a, b)

    def _load(self):
        st = self.store
        meta = st.read_cbor(_META)
        if isinstance(meta, dict):
            seen = meta.get("seen")
            if isinstance(seen, list):
                self.seen = [s for s in seen if isinstance(s, str)]
            r = meta.get("rules")
            if r is not None:
                try:
                    self.rules = R.check_rules(r)
                except R.RulesError as e:
                    self._warn("stored rules refused", e)
        for name in st.names():
            seq = seq_of(name, _NOTE)
            if seq < 0:
                continue
            rec = st.read_cbor(name)
            try:
                s, state, w = rec
                note = M.from_wire(w, self.limits)[0]
                if s != seq or state not in (NEW, ANNOUNCED, READ):
                    raise ValueError("bad record")
            except (TypeError, ValueError) as e:
                self.lost += 1
                self._warn("unreadable notification file dropped", name, e)
                st.remove(name)
                continue
            self.entries.append(Entry(seq, note, state))
        self.entries.sort(key=lambda e: e.seq)
        if self.entries:
            self._seq = self.entries[-1].seq + 1
        while len(self.entries) > self.max_entries:  # the limit shrank since they were stored
            v = self._victim()
            self._warn("over the queue limit after a reset: evicted", v.note.id)
            self._drop_entry(v)

    def _save(self, e):
        self.store.write_cbor(_NOTE + str(e.seq), [e.seq, e.state, e.note.to_wire()])

    def _save_meta(self):
        try:
            self.store.write_cbor(_META, {"seen": self.seen, "rules": self.rules})
        except StoreError as e:
            self._warn("could not save the centre's state", e)

    def _remember(self, ids):
        for i in ids:
            if i not in self.seen:
                self.seen.append(i)
        while len(self.seen) > self.seen_max:
            self.seen.pop(0)
        self._save_meta()

    def _known(self, nid):
        if nid in self.seen:
            return True
        for e in self.entries:
            if e.note.id == nid:
                return True
        return False

    # ---- receiving ----------------------------------------------------------------------
    def receive(self, m):
        """A notification from the host (wire map). Returns the replies for the host."""
        try:
            note, cuts = M.from_wire(m, self.limits)
        except M.NotificationError as e:
            return [W.reply(M.wire_id(m), W.REJECTED, e.reason)]
        nid = note.id
        if self._known(nid):
            return [W.reply(nid, W.DUPLICATE, "already delivered")]
        rule = R.app_rule(self.rules, note.app)
        detail = cuts
        if rule is not None:
            if rule.get("mute"):
                self._remember((nid,))
                return [W.reply(nid, W.DROPPED, "muted by the rule for app %s" % note.app)]
            p = rule.get("priority")
            if p is not None and M.PRIORITIES.index(p) != note.prio:
                note.prio = M.PRIORITIES.index(p)
                detail = cuts + ["priority set to %s by the rule for app %s" % (p, note.app)]
        evicted = []
        if len(self.entries) >= self.max_entries:
            if not self._evict_for(note, evicted, "queue full (%d)" % self.max_entries):
                self._remember((nid,))
                return [W.reply(nid, W.DROPPED, "queue full (%d) and every waiting "
                                "notification is more important" % self.max_entries)]
        mode = self._mode(note, rule)
        ent = Entry(self._seq, note, _state_after(mode))
        while True:
            try:
                self._save(ent)
                break
            except StoreFull as err:
                if not self._evict_for(note, evicted, "flash full"):
                    return [W.reply(nid, W.DROPPED, "flash full: %s" % err)] + evicted
            except StoreError as err:
                return [W.reply(nid, W.DROPPED, "flash error: %s" % err)] + evicted
        self._seq += 1
        self.entries.append(ent)
        out = [W.reply(nid, W.CUT if cuts else W.ACCEPTED, detail if detail else None)]
        if mode < 0:
            if not self.worn:
                self.p.waiting(self._top_waiting())
        else:
            self.cur = ent.seq
            self.p.present(note, mode)
        if self.log is not None:
            self.log.info("notification from %s: %s", note.app, self._how(mode))
        return out + evicted

    def _how(self, mode):
        """How a notification just added was presented, in words (the log's)."""
        if mode >= 0:
            return P.HOW[mode]
        if not self.worn:
            return "waits for a tap (not worn)"
        return "waits for a tap (quiet hours)" if self.quiet() else "waits for a tap"

    def _mode(self, note, rule):
        """How to present a notification now: a presentation.SPEAK_* mode, or -1 to keep
        it waiting silently (not worn, or quiet and it does not break through)."""
        if not self.worn:
            return -1
        if self.quiet() and not R.breaks_through(self.rules, note.prio):
            return -1
        if rule is not None and rule.get("always_speak"):
            return P.SPEAK_FULL
        mode = P.BY_PRIORITY[note.prio][3]
        if mode == P.SPEAK_NONE and P.BY_PRIORITY[note.prio][2] is None:
            return -1  # a silent priority: nothing to present, it waits for a tap
        return mode

    def quiet(self):
        if self.rules["dnd"]:
            return True
        lm = self.local_minute
        return R.in_quiet(self.rules, lm() if lm is not None else None)

    def _victim(self):
        """The least valuable entry: lowest priority, read before unread, oldest."""
        best = None
        for e in self.entries:
            if best is None:
                best = e
                continue
            if e.note.prio != best.note.prio:
                if e.note.prio > best.note.prio:
                    best = e
            elif (e.state == READ) != (best.state == READ):
                if e.state == READ:
                    best = e
            # equal rank: the earlier (older) one stays chosen
        return best

    def _evict_for(self, note, out, why):
        v = self._victim()
        if v is None or v.note.prio < note.prio:
            return False
        self._drop_entry(v)
        self._remember((v.note.id,))
        out.append(W.reply(v.note.id, W.DROPPED, "%s: evicted (%s, %s) for %s"
                           % (why, v.note.priority, STATE_NAMES[v.state], note.id)))
        return True

    def _drop_entry(self, e):
        self.entries.remove(e)
        self.store.remove(_NOTE + str(e.seq))
        if self.cur == e.seq:
            self.cur = -1

    # ---- wear, rules, quiet ---------------------------------------------------------------
    def _top_waiting(self):
        """Priority of the most important unpresented notification, or None."""
        top = None
        for e in self.entries:
            if e.state == NEW and (top is None or e.note.prio < top):
                top = e.note.prio
        return top

    def waiting_counts(self):
        """(unpresented, of which urgent)"""
        n = 0
        u = 0
        for e in self.entries:
            if e.state == NEW:
                n += 1
                if e.note.prio == M.URGENT:
                    u += 1
        return n, u

    def set_worn(self, worn, summary=True):
        """Put on: LED off and "you have N notifications" (returned). Taken off: the LED
        shows what waits."""
        if worn == self.worn:
            return None
        self.worn = worn
        if not worn:
            self.p.waiting(self._top_waiting())
            return None
        self.p.waiting(None)
        return self._summary() if summary else None

    def _summary(self):
        n, u = self.waiting_counts()
        if not n:
            return None
        text = P.summary_text(n, u)
        self.p.say(text)
        return text

    def set_rules(self, rules):
        """Replace the rules (raises RulesError and keeps the old ones if bad)."""
        self.rules = R.check_rules(rules)
        self._save_meta()

    def set_dnd(self, on):
        was = self.rules["dnd"]
        self.rules["dnd"] = bool(on)
        self._save_meta()
        if was and not on and self.worn:
            return self._summary()
        return None

    # ---- the user's view ----------------------------------------------------------------
    def _by_seq(self, seq):
        for e in self.entries:
            if e.seq == seq:
                return e
        return None

    def _first_unread(self):
        best = None
        for e in self.entries:
            if e.state != READ and (best is None or e.note.prio < best.note.prio):
                best = e
        return best

    def current(self):
        """The notification gestures act on: the one last presented or navigated to;
        else the most important unread one (oldest first); else the newest."""
        e = self._by_seq(self.cur)
        if e is not None:
            return e
        e = self._first_unread()
        if e is None and self.entries:
            e = self.entries[-1]
        return e

    def _mark(self, e, state):
        self.cur = e.seq
        if e.state < state:
            e.state = state
            self._save(e)

    def read_current(self):
        """Tap: read the current notification out in full (if it was already read and
        another is unread, that one). Returns the entry read, or None."""
        e = self.current()
        if e is None:
            self.p.say("No notifications.")
            return None
        if e.state == READ:
            nxt = self._first_unread()
            if nxt is not None:
                e = nxt
        self._mark(e, READ)
        self.p.read(e.note)
        return e

    def step(self, delta):
        """Swipe: move through the queue (arrival order) and say which one it is."""
        if not self.entries:
            self.p.say("No notifications.")
            return None
        e = self.current()
        i = self.entries.index(e)
        j = i + delta
        if j < 0 or j >= len(self.entries):
            self.p.feedback("nope")  # already at the end
            return None
        e = self.entries[j]
        self._mark(e, ANNOUNCED)
        self.p.announce(e.note)
        return e

    def ids(self):
        return [e.note.id for e in self.entries]

    def remove(self, ids):
        """Remove these notifications (acted on, dismissed). Returns the ids removed."""
        gone = []
        for e in list(self.entries):
            if e.note.id in ids:
                self._drop_entry(e)
                gone.append(e.note.id)
        if gone:
            self._remember(gone)
            if not self.worn:
                self.p.waiting(self._top_waiting())
        return gone


def _state_after(mode):
    if mode == P.SPEAK_FULL:
        return READ
    if mode == P.SPEAK_TITLE:
        return ANNOUNCED
    return NEW  # waiting, or presented without words (it still counts as unheard)
