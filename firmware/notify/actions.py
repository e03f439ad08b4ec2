# Gesture actions and the action outbox.
#
# Actions.dispatch(kind, payload) is the local gesture dispatcher (the recogniser calls it
# with the same arguments as emit):
#   tap            read the current notification            -> action "read"
#   double tap     its first action (e.g. a canned reply)   -> action "action", value = label
#   long press     dismiss all                              -> action "dismiss_all", value = ids
#   nod / shake    yes / no, if the current one asks        -> action "answer", value = yes/no
#   swipe fwd/back the next / previous notification         (local only)
#
# Every action goes back to the host exactly once: the Outbox writes each record to flash
# (act<n>) BEFORE its local effect (removing the notification), sends it, and keeps it
# until the host acknowledges its action id; after a reset or a reconnect every pending
# record is sent again and the host drops the copies by action id. Action ids are
# "<epoch>-<n>": n counts up (its high-water mark is saved before any acknowledged record
# is deleted, so an id is never reused), epoch is random per flash store (a wiped store
# cannot reuse ids the host has seen).

from firmware.notify import wire as W
from firmware.notify.center import seq_of
from firmware.runtime.rand import bits30
from firmware.runtime.store import StoreError
from firmware.sense import gestures as G

_ACT = "act"
_OUTBOX = "outbox"


class OutboxFull(Exception):
    pass


def new_epoch():
    return "%08x" % bits30()


class Outbox:
    def __init__(self, store, max_pending=16, epoch=None, log=None):
        self.store = store
        self.max_pending = max_pending
        self.log = log
        meta = store.read_cbor(_OUTBOX)
        if not isinstance(meta, dict) or not isinstance(meta.get("epoch"), str):
            meta = {"epoch": epoch if epoch is not None else new_epoch(), "next": 1}
            store.write_cbor(_OUTBOX, meta)
        self.epoch = meta["epoch"]
        self.saved_next = meta.get("next", 1)  # what flash knows of the counter
        self.next = self.saved_next
        self.records = []  # [(n, record)] in order
        for name in store.names():
            n = seq_of(name, _ACT)
            if n < 0:
                continue
            rec = store.read_cbor(name)
            if W.msg_type(rec) != W.T_ACTION:
                if log is not None:
                    log.warn("unreadable action record dropped", name)
                store.remove(name)
                continue
            self.records.append((n, rec))
            if n >= self.next:
                self.next = n + 1
        self.records.sort(key=lambda r: r[0])

    def add(self, kind, nid, value):
        """Persist a new action record and return it (raises OutboxFull, StoreError)."""
        if len(self.records) >= self.max_pending:
            raise OutboxFull("%d actions wait for the host's acknowledgement"
                             % len(self.records))
        n = self.next
        rec = W.action("%s-%d" % (self.epoch, n), kind, nid, value)
        self.store.write_cbor(_ACT + str(n), rec)
        self.next = n + 1
        self.records.append((n, rec))
        return rec

    def pending(self):
        return [r[1] for r in self.records]

    def ack(self, aids):
        """The host has these action ids: forget them. Returns how many were pending."""
        gone = [r for r in self.records if r[1][W.A_AID] in aids]
        if not gone:
            return 0
        if self.saved_next < self.next:  # never delete the record that holds the maximum
            self.store.write_cbor(_OUTBOX, {"epoch": self.epoch, "next": self.next})
            self.saved_next = self.next
        for r in gone:
            self.store.remove(_ACT + str(r[0]))
            self.records.remove(r)
        return len(gone)


class Actions:
    def __init__(self, center, outbox, presenter, send=None, log=None):
        self.c = center
        self.o = outbox
        self.p = presenter
        self.send = send
        self.log = log
        self.refused = 0
        self._finish_interrupted()

    def _finish_interrupted(self):
        """A reset between writing a record and its local effect: do the effect now."""
        for rec in self.o.pending():
            k = rec[W.A_KIND]
            if k == W.A_ACTION or k == W.A_ANSWER:
                self.c.remove((rec[W.A_NID],))
            elif k == W.A_DISMISS_ALL and isinstance(rec[W.A_VALUE], list):
                self.c.remove(rec[W.A_VALUE])

    def _send(self, rec):
        if self.send is None:
            return
        try:
            self.send(rec)
        except Exception as e:  # the link is down: the record stays pending
            if self.log is not None:
                self.log.warn("action %s not sent, kept for resend: %s", rec[W.A_AID], e)

    def _record(self, kind, nid, value):
        try:
            rec = self.o.add(kind, nid, value)
        except (OutboxFull, StoreError) as e:
            self.refused += 1
            if self.log is not None:
                self.log.warn("action %s refused: %s", kind, e)
            return None
        self._send(rec)
        return rec

    def resend(self):
        """After a reset or a reconnect: send every record the host has not acknowledged."""
        recs = self.o.pending()
        for rec in recs:
            self._send(rec)
        return len(recs)

    def on_ack(self, aids):
        return self.o.ack(aids)

    # ---- the dispatcher -------------------------------------------------------------
    def dispatch(self, kind, payload=None):
        if kind == G.TAP:
            self.read()
        elif kind == G.DOUBLE_TAP:
            self.first_action()
        elif kind == G.LONG_PRESS:
            self.dismiss_all()
        elif kind == G.NOD:
            self.answer(True)
        elif kind == G.SHAKE:
            self.answer(False)
        elif kind == G.SWIPE_FORWARD:
            self.c.step(1)
        elif kind == G.SWIPE_BACK:
            self.c.step(-1)

    def read(self):
        e = self.c.read_current()
        if e is not None:
            self._record(W.A_READ, e.note.id, None)  # best effort: reading is never refused
        return e

    def first_action(self):
        e = self.c.current()
        if e is None or not e.note.actions:
            self.p.feedback("nope")
            return None
        return self._finish(e, W.A_ACTION, e.note.actions[0], "confirm")

    def answer(self, yes):
        e = self.c.current()
        if e is None or not e.note.asks:
            self.p.feedback("nope")
            return None
        return self._finish(e, W.A_ANSWER, "yes" if yes else "no", "confirm")

    def _finish(self, e, kind, value, chime):
        rec = self._record(kind, e.note.id, value)
        if rec is None:
            self.p.feedback("error")
            return None
        self.c.remove((e.note.id,))
        self.p.feedback(chime)
        return rec

    def dismiss_all(self):
        ids = self.c.ids()
        if not ids:
            self.p.feedback("nope")
            return None
        rec = self._record(W.A_DISMISS_ALL, None, ids)
        if rec is None:
            self.p.feedback("error")
            return None
        self.c.remove(ids)
        self.p.feedback("dismiss")
        return rec
