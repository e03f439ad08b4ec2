# Whether an update may start now, and how much flash it may use: the OTA service's
# policy (service.py asks it; board options and the battery policy decide).
import os

from firmware.ota import boot
from firmware.ota.files import tree_bytes


def can_update(svc):
    """(ok, reason): a usable public key, the battery policy (app.ota_refusal() or
    app.ota_allowed() when the app has one; else the gauge's level here), the board's
    charging rule."""
    if svc.key_error is not None:
        return False, "board misconfigured: %s" % svc.key_error
    latest = svc.app.latest.get("battery")
    charging = bool(latest[2]) if latest else False
    refusal = svc.app.ota_refusal  # the battery policy, when the app has one
    fn = svc.app.ota_allowed  # (firmware/sense/service.py sets them)
    if refusal is not None:
        reason = refusal()
        if reason:
            return False, reason
    elif fn is not None:
        r = fn()
        if isinstance(r, tuple):
            ok, reason = r[0], r[1]
        else:
            ok, reason = bool(r), None
        if not ok:
            return False, reason or "refused by the battery policy"
    elif svc.board.has("fuel_gauge"):
        if latest is None:
            why = svc.board.missing.get("gauge")
            if why is not None:
                return False, "battery level unknown: the fuel gauge did not start " \
                              "(%s)" % why
            return False, "battery level not measured yet: try again in a few seconds"
        pct = int(latest[0])
        low = svc.cfg["ota_min_battery_pct"]
        if pct < low and not charging:
            return False, "battery at %d%%, below the %d%% an update needs: charge the " \
                          "glasses first" % (pct, low)
    needs = svc.board.options.get("ota_needs_charging") or \
        svc.board.has("ota_needs_charging")
    if needs and not charging:
        return False, "this board updates only while charging: put the glasses on " \
                      "the charger"
    return True, None

def free_bytes(svc):
    """Flash an update may use: the filesystem's free space plus the inactive slot
    (cleared before staging), capped by the board's ota_bytes budget."""
    st = boot.read_state(svc.root)
    inactive = boot.SLOTS[0] if st[0] != boot.SLOTS[0] else boot.SLOTS[1]
    free = -1
    try:
        v = os.statvfs(svc.root or "/")
        free = v[0] * v[3] + tree_bytes(boot.slot_dir(svc.root, inactive))
    except (OSError, AttributeError):
        pass
    budget = svc.board.options.get("ota_bytes", 0)
    if budget:
        used = tree_bytes(boot.slot_dir(svc.root, st[0])) if st[0] != boot.FACTORY else 0
        room = budget - used
        free = room if free < 0 else min(free, room)
    return free if free >= 0 else None
