# Boot selection: which firmware copy runs. The factory copy (flashed over serial) sits at
# the filesystem root and is never touched by an update; updates go into slot_a / slot_b.
# `ota/state` (written atomically) names the active slot. A freshly switched slot is on
# trial: each boot counts, and if it has not been marked healthy (link up, or running
# long enough) within MAX_TRIAL_BOOTS boots, the previous copy is restored and the reason
# recorded. main.py calls firmware/bootmain.py, which calls select() before importing the
# firmware, and failed() when the selected copy does not import.
#
# The state (CBOR map, small int keys): 0 active copy ("factory", "a", "b"), 1 previous
# copy (restored by a rollback), 2 on trial, 3 trial boots counted, 4 active version,
# 5 previous version, 6 last event (text: what the bootloader or the updater did last),
# 7 the bootloader's version (manifest.BOOT_VERSION of the copy that ran select(): the
# factory copy, whose boot code an update never replaces), 8 the highest security counter
# a copy ran healthy with (never lowered: not by a rollback, not by a reset), 9 the
# active copy's counter (what 8 becomes once it is healthy).
import os

from firmware.ota.manifest import BOOT_VERSION
from firmware.runtime.store import Store

MAX_TRIAL_BOOTS = 3
FACTORY = "factory"
SLOTS = ("a", "b")
OK_MARK = "SLOT_OK"  # written last into a slot, after every file was verified


def slot_dir(root, slot):
    if slot == FACTORY:
        return root or "/"
    return "%s/slot_%s" % (root, slot)


def state_store(root):
    return Store("%s/ota" % root)


def read_state(root):
    return state_store(root).read_cbor("state", None) or {
        0: FACTORY, 1: None, 2: False, 3: 0, 4: None, 5: None, 6: None}


def write_state(root, st):
    state_store(root).write_cbor("state", st)


def slot_ok(root, slot):
    if slot == FACTORY:
        return True
    try:
        os.stat(slot_dir(root, slot) + "/" + OK_MARK)
        return True
    except OSError:
        return False


def select(root, max_boots=MAX_TRIAL_BOOTS):
    """Count this boot and return (folder to import the firmware from, state)."""
    st = read_state(root)
    active = st[0]
    dirty = st.get(7) != BOOT_VERSION
    st[7] = BOOT_VERSION
    if not slot_ok(root, active):
        st[6] = "slot %s incomplete: booted %s" % (active, st[1] or FACTORY)
        st[0] = st[1] if st[1] and slot_ok(root, st[1]) else FACTORY
        st[4] = st[5]
        st[1] = None
        st[2] = False
        st[3] = 0
        st[9] = None
        write_state(root, st)
    elif st[2]:
        st[3] += 1
        if st[3] > max_boots:
            st[6] = "rolled back from %s (%s): not healthy after %d boots" % (
                active, st[4], max_boots)
            st[0] = st[1] if st[1] and slot_ok(root, st[1]) else FACTORY
            st[4] = st[5]
            st[1] = None
            st[2] = False
            st[3] = 0
            st[9] = None  # its counter was never confirmed: st[8] stays as it was
        write_state(root, st)
    elif dirty:
        write_state(root, st)
    return slot_dir(root, st[0]), st


def failed(root, copy, reason):
    """The copy select() chose cannot run (it does not import): go back to the previous
    copy now, for good, and keep the reason. Returns (folder, state) of the copy to try
    next. The factory copy has nothing to fall back to: ValueError."""
    if copy == FACTORY:
        raise ValueError("the factory copy failed: %s" % reason)
    st = read_state(root)
    back = st[1] if st[1] and st[1] != copy and slot_ok(root, st[1]) else FACTORY
    st[6] = "rolled back from %s (%s): %s" % (copy, st[4], reason)
    st[0] = back
    st[4] = st[5]
    st[1] = None
    st[5] = None
    st[2] = False
    st[3] = 0
    st[9] = None
    write_state(root, st)
    return slot_dir(root, back), st


def mark_healthy(root):
    """The running firmware reached 'healthy': end its trial."""
    st = read_state(root)
    if st[2]:
        st[2] = False
        st[3] = 0
        st[6] = "update to %s confirmed healthy" % st[4]
        if (st.get(9) or 0) > (st.get(8) or 0):
            st[8] = st[9]
        write_state(root, st)
    return st


def security_floor(st, running):
    """The lowest security counter an update may carry: the highest a copy ran healthy
    with (st: the boot state), or the running copy's (its firmware.version.SECURITY)."""
    floor = st.get(8) or 0
    return running if running > floor else floor


def switch(root, slot, version, security=0):
    """Make a verified slot the active one, on trial. One atomic state write."""
    st = read_state(root)
    st[9] = security
    st[1] = st[0]
    st[5] = st[4]
    st[0] = slot
    st[4] = version
    st[2] = True
    st[3] = 0
    st[6] = "switched to %s (%s)" % (slot, version)
    write_state(root, st)
    return st
