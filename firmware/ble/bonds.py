# Bond keys on the glasses' flash. MicroPython's BLE stack asks the application for them
# (_IRQ_GET_SECRET / _IRQ_SET_SECRET); they are opaque (sec_type, key, value) byte
# records to us. At most `max_bonds` records per sec_type are kept: adding one more
# evicts the oldest (a record that is written again becomes the newest). NimBLE writes
# one record of each type per bonded peer, so that evicts the oldest bond.
#
# The IRQ handler only touches RAM (get/set); save() writes the flash file afterwards,
# from a task, and is a no-op when nothing changed.
from micropython import const

_MAX_SEC_TYPES = const(4)
_MAX_KEY = const(64)
_MAX_VALUE = const(512)


class BondStore:
    def __init__(self, store, max_bonds=4, name="bonds"):
        if max_bonds < 1:
            raise ValueError("max_bonds must be >= 1")
        self.store = store
        self.name = name
        self.max_bonds = max_bonds
        self.entries = []  # [sec_type, key, value], oldest first
        self.dirty = False
        self.evicted = 0
        self.refused = 0
        self.saves = 0
        self.save_errors = 0
        self._load()

    def _load(self):
        records = self.store.read_cbor(self.name, [])
        if not isinstance(records, list):
            return
        for r in records:
            if (isinstance(r, list) and len(r) == 3 and isinstance(r[0], int)
                    and isinstance(r[1], bytes) and isinstance(r[2], bytes)):
                self.entries.append(r)

    def _find(self, sec_type, key):
        for i in range(len(self.entries)):
            e = self.entries[i]
            if e[0] == sec_type and e[1] == key:
                return i
        return -1

    def count(self, sec_type=None):
        if sec_type is None:
            return len(self.entries)
        n = 0
        for e in self.entries:
            if e[0] == sec_type:
                n += 1
        return n

    def get(self, sec_type, index, key):
        """_IRQ_GET_SECRET: the value for (sec_type, key), or with key None the
        index'th value of sec_type; None if there is none."""
        if key is None:
            n = 0
            for e in self.entries:
                if e[0] == sec_type:
                    if n == index:
                        return e[2]
                    n += 1
            return None
        i = self._find(sec_type, bytes(key))
        return self.entries[i][2] if i >= 0 else None

    def set(self, sec_type, key, value):
        """_IRQ_SET_SECRET: store (or with value None delete) a record. False if refused."""
        key = bytes(key)
        if not 0 <= sec_type < 256 or len(key) > _MAX_KEY:
            self.refused += 1
            return False
        i = self._find(sec_type, key)
        if value is None:
            if i >= 0:
                self.entries.pop(i)
                self.dirty = True
            return True
        value = bytes(value)
        if len(value) > _MAX_VALUE:
            self.refused += 1
            return False
        if i >= 0:
            self.entries.pop(i)
        elif self.count(sec_type) >= self.max_bonds:
            self.entries.pop(self._oldest(sec_type))
            self.evicted += 1
        elif len(self.entries) >= self.max_bonds * _MAX_SEC_TYPES:
            self.refused += 1
            return False
        self.entries.append([sec_type, key, value])
        self.dirty = True
        return True

    def _oldest(self, sec_type):
        for i in range(len(self.entries)):
            if self.entries[i][0] == sec_type:
                return i
        return -1

    def clear(self):
        if self.entries:
            self.entries = []
            self.dirty = True

    def save(self):
        """Write the records to flash if they changed. False if the flash refused (the
        records stay in RAM, marked dirty, and the next save tries again)."""
        if not self.dirty:
            return True
        try:
            self.store.write_cbor(self.name, self.entries)
        except OSError:
            self.save_errors += 1
            return False
        self.dirty = False
        self.saves += 1
        return True
