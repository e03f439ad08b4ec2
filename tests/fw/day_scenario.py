# A day with the glasses, as data: the scripted timeline and the outcomes expected from it.
# tests/fw/test_notify_day.py runs it in virtual time with the firmware services wired
# in-process; the same data can drive the simulator and the BLE link later.
#
# Times are local wall-clock (h, m, s); the day starts at 07:00:00 (boot, glasses on the
# table) and ends at 23:30. Quiet hours 22:00-07:00 come from the host as rules.
#
# Events:
#   ("rules", rules)            host sends delivery rules
#   ("notify", fields)          host (phone) forwards a notification (model fields)
#   ("put_on",) / ("take_off",) the wearer; the proximity sensor sees it at its sample rate
#   ("tap",) ("double_tap",) ("long_press",)   a finger on the touch pad
#   ("nod",) ("shake",)         a head gesture (100 Hz gyro burst)
#   ("walk", ms)                walking (100 Hz gyro: must not be a gesture)
#   ("link", up)                the BLE link drops / comes back
#   ("reset",)                  the glasses reset (watchdog, brown-out): RAM is gone
#   ("prox_dies", reason)       the proximity sensor dies (fault report, then silence)
#   ("check", name)             compare with CHECKS[name]
START_H = 7
END = (23, 30, 0)


def note(nid, app, title, body="", priority="normal", category="message", **kw):
    d = {"id": nid, "app": app, "title": title, "body": body, "priority": priority,
         "category": category, "ts": 1767250800}
    d.update(kw)
    return d


TIMELINE = [
    ((7, 0, 5), ("rules", {"quiet": [[22 * 60, 7 * 60]]})),
    ((7, 5, 0), ("notify", note("n1", "Mail", "Standup moved", "Now at 9:30 in room 4",
                                category="email"))),
    ((7, 6, 0), ("notify", note("n2", "Social", "3 new likes", priority="low",
                                category="social"))),
    ((7, 6, 30), ("check", "table")),
    ((7, 30, 0), ("put_on",)),
    ((7, 30, 20), ("check", "morning_summary")),
    ((7, 31, 0), ("tap",)),
    ((7, 40, 0), ("notify", note("m1", "Chat", "Ana", "Running late, 10 min",
                                 actions=["Reply 'On my way'", "Call"]))),
    ((7, 41, 0), ("double_tap",)),
    ((8, 0, 0), ("walk", 30000)),
    ((9, 0, 0), ("notify", note("c1", "Calendar", "Design review", "At 10:00, room 2",
                                category="calendar", asks="Accept the meeting?"))),
    ((9, 1, 0), ("nod",)),
    ((9, 2, 0), ("check", "after_nod")),
    ((12, 0, 0), ("take_off",)),
    ((12, 1, 0), ("check", "saving")),
    ((12, 10, 0), ("notify", note("n3", "Mail", "Invoice", "Invoice 42 is due"))),
    ((12, 15, 0), ("notify", note("u1", "Home", "Door open", "The front door is open",
                                  priority="urgent", category="system"))),
    ((12, 16, 0), ("check", "led_urgent")),
    ((12, 20, 0), ("link", False)),
    ((12, 30, 0), ("notify", note("n4", "Chat", "Ben", "Lunch tomorrow?"))),
    ((12, 59, 0), ("link", True)),
    ((13, 0, 0), ("put_on",)),
    ((13, 0, 40), ("check", "lunch_summary")),
    ((13, 1, 0), ("tap",)),
    ((13, 1, 1), ("reset",)),
    ((13, 2, 0), ("check", "after_reset")),
    ((14, 0, 0), ("take_off",)),
    ((14, 30, 0), ("prox_dies", "I2C: no ack from the proximity sensor")),
    ((14, 31, 0), ("check", "sensor_dead")),
    ((15, 0, 0), ("notify", note("n5", "Mail", "Weekly report", "Attached"))),
    ((22, 30, 0), ("notify", note("n6", "Chat", "Cleo", "Good night"))),
    ((23, 0, 0), ("notify", note("u2", "Home", "Smoke alarm", "Kitchen smoke alarm",
                                 priority="urgent", category="system"))),
    ((23, 1, 0), ("check", "night")),
]

# Battery: the gauge reads every 10 minutes, draining linearly from 95 % at 07:00 to 12 %
# at 23:30 (not charging). 20 % is crossed at about 21:33.
BATTERY = (95, 12)

# What must have been said at each check (the whole list since the last check).
SAID = {
    "table": [],
    "morning_summary": ["You have 2 notifications."],
    "after_nod": ["Mail: Standup moved", "Now at 9:30 in room 4",  # tap
                  "Chat: Ana",  # announced on arrival
                  "Calendar: Design review"],
    "saving": [],
    "led_urgent": [],
    "lunch_summary": ["You have 4 notifications, 1 urgent."],
    # the tap read the urgent one; after the reset only the summary of the unheard ones
    "after_reset": ["Home: Door open", "The front door is open",
                    "You have 3 notifications."],
    "sensor_dead": [],  # the fault fallback resumes delivery without a summary
    "night": ["Mail: Weekly report",  # 15:00: presented, the glasses assume they are worn
              "Battery low, 20 percent",
              "Home: Smoke alarm", "Kitchen smoke alarm"],  # n6 held by quiet hours
}

# Every notification (and the rules): exactly one reply, with this outcome.
REPLIES = {"rules": "accepted", "n1": "accepted", "n2": "accepted", "m1": "accepted",
           "c1": "accepted", "n3": "accepted", "u1": "accepted", "n4": "accepted", "n5": "accepted",
           "n6": "accepted", "u2": "accepted"}

# The host's actions, each exactly once, in order: (kind, notification id, value).
ACTIONS = [("read", "n1", None), ("action", "m1", "Reply 'On my way'"),
           ("answer", "c1", "yes"), ("read", "u1", None)]

# The queue at the end of the day (arrival order).
QUEUE = ["n1", "n2", "n3", "u1", "n4", "n5", "n6", "u2"]
