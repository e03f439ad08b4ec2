"""The built-in intents: time, date, battery, timers, reminders, notifications, volume,
stop, repeat, help. Their templates are what they understand (host_tools/voice/intents.py);
what the glasses must do comes back as actions in the answer (docs/voice.md):

    {"type": "timer", "seconds"}               {"type": "timer_cancel", "seconds"?}
    {"type": "reminder", "seconds", "text"}    {"type": "volume", "level"}  (0..10)
    {"type": "stop"}                           {"type": "notify", "do": "read" | "clear" |
                                                "yes" | "no" | "dismiss"}
"""
from host_tools.voice import parse
from host_tools.voice.assist import Reply

MAX_TIMER_S = 24 * 3600
MAX_REMINDER_S = 7 * 24 * 3600
MAX_REMINDER_TEXT = 80
VOLUME_MAX = 10

_POLITE_Q = "[(can|could|would) you] [please] [tell me]"


def _time(ctx, slots):
    t = ctx.now()
    return Reply("It's %s." % parse.say_clock(t.hour, t.minute))


def _date(ctx, slots):
    t = ctx.now()
    return Reply("Today is %s, %s %d." % (t.strftime("%A"), t.strftime("%B"), t.day))


def _battery(ctx, slots):
    if ctx.battery_pct is None:
        return Reply("I don't know the battery level yet: the glasses have not reported it.")
    s = "Your glasses battery is at %d percent" % round(ctx.battery_pct)
    return Reply(s + (", and charging." if ctx.charging else "."))


def _timer_set(ctx, slots):
    s = slots["duration"]
    if not 1 <= s <= MAX_TIMER_S:
        return Reply("I can set timers from one second to 24 hours.")
    if len(ctx.timers) >= 4:
        return Reply("Four timers are running already; cancel one first.")
    return Reply("Timer set for %s." % parse.say_duration(s), [{"type": "timer", "seconds": s}])


def _pick(ctx, slots):
    """The timer a query means: by its length if said, else the only (or soonest) one."""
    if not ctx.timers:
        return None
    if "duration" in slots:
        for left, length in ctx.timers:
            if length == slots["duration"]:
                return left, length
        return False
    return min(ctx.timers)


def _timer_cancel(ctx, slots):
    if not ctx.timers:
        return Reply("You have no timers running.")
    t = _pick(ctx, slots)
    if t is False:
        return Reply("You have no %s timer." % parse.say_length(slots["duration"]))
    if len(ctx.timers) > 1 and "duration" not in slots:
        return Reply("You have %d timers; say which one, or cancel all timers."
                     % len(ctx.timers))
    return Reply("Your %s timer is cancelled." % parse.say_length(t[1]),
                 [{"type": "timer_cancel", "seconds": t[1]}])


def _timer_cancel_all(ctx, slots):
    if not ctx.timers:
        return Reply("You have no timers running.")
    n = len(ctx.timers)
    return Reply("All %d timers are cancelled." % n if n > 1 else "Your timer is cancelled.",
                 [{"type": "timer_cancel"}])


def _timer_left(ctx, slots):
    if not ctx.timers:
        return Reply("You have no timers running.")
    t = _pick(ctx, slots)
    if t is False:
        return Reply("You have no %s timer." % parse.say_length(slots["duration"]))
    parts = []
    for left, length in sorted(ctx.timers) if "duration" not in slots else [t]:
        parts.append("Your %s timer has %s left." % (parse.say_length(length),
                                                    parse.say_duration(max(1, left))))
    return Reply(" ".join(parts))


def _reminder(ctx, slots):
    what = slots.get("text", "").strip()
    if not what:
        return Reply("What should I remind you of?")
    if "duration" in slots:
        s = slots["duration"]
        when = "in %s" % parse.say_duration(s)
    else:
        s = parse.seconds_until(slots["time"], ctx.now())
        hours, m, _ = slots["time"]
        h = (ctx.now().hour * 3600 + ctx.now().minute * 60 + s) // 3600 % 24
        when = "at %s" % parse.say_clock(h, m)
    if not 1 <= s <= MAX_REMINDER_S:
        return Reply("I can keep reminders for up to a week.")
    what = what[:MAX_REMINDER_TEXT]
    spoken = what.replace(" my ", " your ").replace(" me ", " you ")
    if spoken.startswith("my "):
        spoken = "your " + spoken[3:]
    return Reply("I'll remind you to %s %s." % (spoken, when),
                 [{"type": "reminder", "seconds": s, "text": "Reminder: %s." % spoken}])


def _notes_read(ctx, slots, latest=False):
    n = ctx.notifications
    if not n:
        return Reply("You have no notifications.", [{"type": "notify", "do": "read"}])
    if latest:
        item = n[-1]
        who = item.get("title") or item.get("app") or "someone"
        return Reply("From %s: %s" % (who, item.get("text", "").strip() or "no text"),
                     [{"type": "notify", "do": "read"}])
    parts = ["You have %d notification%s." % (len(n), "" if len(n) == 1 else "s")]
    for item in list(reversed(n))[:3]:
        who = item.get("title") or item.get("app") or "someone"
        parts.append("From %s: %s" % (who, item.get("text", "").strip() or "no text"))
    if len(n) > 3:
        parts.append("And %d more." % (len(n) - 3))
    return Reply(" ".join(parts), [{"type": "notify", "do": "read"}])


def _notes_do(what, answer):
    def handler(ctx, slots):
        if not ctx.notifications and what != "clear":
            return Reply("There is no notification to %s." % ("answer" if what in ("yes", "no")
                                                               else "dismiss"))
        return Reply(answer, [{"type": "notify", "do": what}])
    return handler


def _volume(delta=None, percent=False):
    def handler(ctx, slots):
        cur = ctx.volume if ctx.volume is not None else 8
        if delta is None:
            n = slots["number"]
            level = (n + 5) // 10 if percent or n > VOLUME_MAX else n
        else:
            level = cur + delta
        level = max(0, min(VOLUME_MAX, level))
        if delta is not None and level == cur:
            return Reply("The volume is at its %s already." % ("maximum" if delta > 0
                                                               else "minimum"))
        return Reply("Volume %d." % level, [{"type": "volume", "level": level}])
    return handler


def _stop(ctx, slots):
    return Reply("", [{"type": "stop"}])


def _repeat(ctx, slots):
    if not ctx.last_answer:
        return Reply("There is nothing to repeat yet.")
    return Reply(ctx.last_answer)


def _help(registry):
    def handler(ctx, slots):
        acts = registry.actions()
        return Reply("I can " + ", ".join(acts[:-1]) + " and " + acts[-1] + ". For anything "
                     "else I ask the answer service, if one is set up.")
    return handler


def register(r):
    q = _POLITE_Q
    r.intent("time", [q + " what time is it [now|right now]",
                      q + " what is the time [now|right now]", "tell me the time",
                      "[do you know|tell me] what time it is", "[the] time [please]",
                      "[have you] got the time", "what is the current time"],
             "tell the time")(_time)
    r.intent("date", [q + " what (day|date) is it [today]", q + " what is the date [today]",
                      q + " what is todays (date|day)", "what day of (the|a) week is it [today]",
                      "what is today", "which day is it [today]", "tell me the date",
                      "[todays] date", "what month is it"], "the date")(_date)
    r.intent("battery", [q + " (what is|how is) [my|the] [glasses] battery [level|status]",
                         "how much battery [is] [left|do i have [left]]",
                         "[what is the] battery [level|status]",
                         "[it|this] is [my|the] battery low",
                         "how much charge [is left|do i have [left]]",
                         "what is my battery at", "how charged are my glasses"],
             "say the battery level")(_battery)
    r.intent("timer_cancel_all", ["(cancel|stop|delete|clear|remove) all [of] [the|my] "
                                  "(timers|timer)",
                                  "(cancel|delete|clear) [the|my] timers"])(_timer_cancel_all)
    r.intent("timer_cancel", ["(cancel|stop|delete|remove|end) [the|my] timer",
                              "(cancel|stop|delete|remove|end) [the|my] {duration} timer",
                              "(cancel|stop|delete) the timer for {duration}"],
             "cancel timers")(_timer_cancel)
    r.intent("timer_left", [
        "how (much time|long) is left [on [the|my] [{duration}] timer]",
        "how (much time|long) [do i have] left [on [the|my] [{duration}] timer]",
        "how (much time|long) is (left|remaining) on [the|my] [{duration}] timer",
        "how long until [the|my] [{duration}] timer (goes off|is done|rings|ends)",
        "[how much] time (left|remaining) on [the|my] [{duration}] timer",
        "(what|which) timers do i have [running]", "check [the|my] timers?",
        "check [the|my] (timer|timers)"], "say how long a timer has left")(_timer_left)
    r.intent("timer", ["(set|start|make) a timer for {duration}",
                       "(set|start|make) [a|an] {duration} timer", "timer for {duration}",
                       "{duration} timer", "set [the] timer (for|to) {duration}",
                       "count down [from] {duration}", "(set|start) a timer {duration}",
                       "set [a] time for {duration}"],
             "set timers")(_timer_set)
    r.intent("reminder", ["remind me to {text} (at|by) {time}", "remind me to {text} in {duration}",
                          "remind me (at|by) {time} to {text}", "remind me in {duration} to {text}",
                          "set a reminder to {text} (at|by) {time}",
                          "set a reminder to {text} in {duration}",
                          "remind me about {text} (at|by) {time}",
                          "remind me about {text} in {duration}"],
             "keep reminders")(_reminder)
    r.intent("notify_latest", ["read [me] [the|my] (latest|last|newest) (notification|message)",
                               "what (was|is) [the|my] (latest|last) (notification|message)",
                               "what did [the] last (notification|message) say"],
             )(lambda c, s: _notes_read(c, s, latest=True))
    r.intent("notify_read", ["read [me] [all] [my|the] (notifications|messages)",
                             "(do i have|are there|have i got) any [new] (notifications|messages)",
                             "what are my notifications", "any new (notifications|messages)",
                             "check my (notifications|messages)"],
             "read your notifications")(_notes_read)
    r.intent("notify_clear", ["(clear|dismiss|delete) all [my|the] notifications",
                              "(clear|delete) [my|the] notifications"],
             )(_notes_do("clear", "Notifications cleared."))
    r.intent("notify_yes", ["reply yes", "(answer|say|respond) yes", "reply (ok|okay|sure)"],
             "answer them")(_notes_do("yes", "Replied yes."))
    r.intent("notify_no", ["reply no", "(answer|respond) no"])(_notes_do("no", "Replied no."))
    r.intent("notify_dismiss", ["dismiss [it|that|this]", "dismiss [the] [last|latest] "
                                "(notification|message)"])(_notes_do("dismiss", "Dismissed."))
    r.intent("volume_percent", ["(set|change|turn|put) [the] volume (to|at) {number} percent",
                                "volume [to|at] {number} percent"])(_volume(percent=True))
    r.intent("volume_set", ["(set|change|turn|put) [the] volume (to|at) [level] {number}",
                            "volume [to|at] [level] {number}"])(_volume())
    r.intent("volume_up", ["(turn|crank) [the|my] volume up", "(turn|crank) it up", "volume up",
                           "(increase|raise) [the|my] volume", "turn up [the|my] volume",
                           "louder",
                           "(make it|speak) louder", "speak up", "more volume"],
             "change the volume")(_volume(+1))
    r.intent("volume_down", ["turn [the|my] volume down", "turn it down", "volume down",
                             "(decrease|lower|reduce) [the|my] volume",
                             "turn down [the|my] volume",
                             "(quieter|softer)", "(make it|speak) (quieter|softer)",
                             "less volume"])(_volume(-1))
    r.intent("stop", ["stop [it|that|talking|please]", "cancel [that]", "never mind",
                      "nevermind", "forget it", "be quiet", "shut up", "that is enough",
                      "quiet", "enough", "silence"], "stop")(_stop)
    r.intent("repeat", ["repeat [that|it|please]", "say that again", "(can|could) you repeat "
                        "that", "what did you [just] say", "come again", "pardon",
                        "one more time"], "repeat the last answer")(_repeat)
    r.intent("help", ["what can you do", "what can i (say|ask [you])", "help [me]",
                      "what are your (commands|skills)", "how can you help [me]",
                      "what do you do"])(_help(r))
    return r
