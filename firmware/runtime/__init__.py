# What every feature needs that is not a feature: the scheduler (sched.py and its parts),
# sync primitives, the clock seam, the log ring, random ids, the flash store, CBOR, the
# observer (observe.py). It imports nothing else of the firmware.
