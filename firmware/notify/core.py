# The notification service: the centre, the action outbox and the gesture dispatcher
# behind the entry points the app wires up:
#   on_host(msg)              a decoded message from the host's events channel (wire.*)
#   on_gesture(kind, payload) the gesture recogniser's dispatch callable
#   on_wear(worn, reason)     the wear detector's on_change callable
#   on_link(up)               the session's link state: pending actions go again on "up"
#   start()                   after boot: send the actions a reset left pending
# Everything for the host goes out through send(msg) (the session's send_event).
from firmware.notify import rules as R
from firmware.notify import wire as W
from firmware.notify.actions import Actions, Outbox
from firmware.notify.center import Center


class NotifyService:
    def __init__(self, store, presenter, send=None, rules=None, local_minute=None,
                 max_entries=12, max_pending=16, epoch=None, limits=None, log=None):
        self.send = send
        self.log = log
        self.p = presenter
        self.center = Center(store, presenter, rules, max_entries, limits=limits,
                             local_minute=local_minute, log=log)
        self.outbox = Outbox(store, max_pending, epoch, log)
        self.actions = Actions(self.center, self.outbox, presenter, send, log)
        self.bad_messages = 0
        self.unsent = 0  # replies the link refused

    def _out(self, msgs):
        if self.send is not None:
            for m in msgs:
                try:
                    self.send(m)
                except Exception as e:  # the host resends what got no reply: a duplicate then
                    self.unsent += 1
                    if self.log is not None:
                        self.log.warn("reply to %s not sent: %s", m.get(W.R_ID), e)
        return msgs

    def start(self):
        return self.actions.resend()

    def on_host(self, m):
        """Handle one host message; returns the replies it produced (also sent)."""
        t = W.msg_type(m)
        if t == W.T_NOTIFY:
            return self._out(self.center.receive(m.get(1)))
        if t == W.T_ACK:
            aids = m.get(1)
            if isinstance(aids, list):
                self.actions.on_ack(aids)
                return []
            return self._bad("ack: a list of action ids expected")
        if t == W.T_RULES:
            try:
                self.center.set_rules(m.get(1))
            except R.RulesError as e:
                return self._out([W.reply("rules", W.REJECTED, str(e))])
            return self._out([W.reply("rules", W.ACCEPTED)])
        if t == W.T_DND:
            on = m.get(1)
            if not isinstance(on, bool):
                return self._bad("dnd: true or false expected")
            self.center.set_dnd(on)
            return self._out([W.reply("dnd", W.ACCEPTED)])
        return self._bad("unknown message %r" % (m.get(W.T) if isinstance(m, dict) else m,))

    def _bad(self, reason):
        self.bad_messages += 1
        if self.log is not None:
            self.log.warn("bad host message", reason)
        return self._out([W.reply(None, W.REJECTED, reason)])

    def on_gesture(self, kind, payload=None):
        self.actions.dispatch(kind, payload)

    def on_wear(self, worn, reason=None):
        """The wear detector's on_change. Worn by the sensor's fault fallback
        (reason "sensor_fault"): delivery resumes, but no summary is spoken, since nobody
        may be wearing them."""
        return self.center.set_worn(worn, reason != "sensor_fault")

    def on_link(self, up):
        if up:
            return self.actions.resend()
        return 0
