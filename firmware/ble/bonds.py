# Bond keys on the glasses' flash. MicroPython's BLE stack asks the application for them
# (_IRQ_GET_SECRET / _IRQ_SET_SECRET); they are opaque (sec_type, key, value) byte
# records to us. At most `max_bonds` records per sec_type are kept: adding one more
# evicts the oldest (a record that is written again becomes the newest). NimBLE writes
# one record of each type per bonded peer, so that evicts the oldest bond.
#
# The IRQ handler only touches RAM (get/set); save() writes the flash file afterwards,
# from a task, and is a no-op when nothing changed.
#
# A record's key is the peer's identity address as NimBLE's ble_addr_t: its type byte,
# then the 6 address bytes little-endian (bond_key()). So the records of one phone share
# a key, and a connection's address (as _IRQ_CENTRAL_CONNECT reports it) names its bond.
from micropython import const

_MAX_SEC_TYPES = const(4)
_MAX_KEY = const(64)
_MAX_VALUE = const(512)
_MAX_NAME = const(32)


def bond_key(addr_type, addr):
    """The records' key for a central's address (addr in the order the IRQs report it)."""
    b = bytearray(7)
    b[0] = addr_type
    for i in range(6):
        b[1 + i] = addr[5 - i]
    return bytes(b)


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
        self.new_key = None  # the key of the last record written for a peer not known before
        self.names = {}  # key -> the phone's name (its hello says it), kept with the records
        self._load()

    def _load(self):
        records = self.store.read_cbor(self.name, [])
        if not isinstance(records, list):
            return
        for r in records:
            if (isinstance(r, list) and len(r) == 3 and isinstance(r[0], int)
                    and isinstance(r[1], bytes) and isinstance(r[2], bytes)):
                self.entries.append(r)
        names = self.store.read_cbor(self.name + "_names", {})
        if isinstance(names, dict):
            for k, v in names.items():
                if isinstance(k, bytes) and isinstance(v, str) and self.has_peer(k):
                    self.names[k] = v[:_MAX_NAME]

    def name_of(self, key):
        return self.names.get(key)

    def set_name(self, key, name):
        """Remember a bonded phone's name (saved with the records)."""
        if not isinstance(name, str) or not self.has_peer(key):
            return
        name = name[:_MAX_NAME]
        if self.names.get(key) != name:
            self.names[key] = name
            self.dirty = True

    def _find(self, sec_type, key):
        for i in range(len(self.entries)):
            e = self.entries[i]
            if e[0] == sec_type and e[1] == key:
                return i
        return -1

    def peers(self):
        """The distinct keys (one per bonded phone), oldest first."""
        out = []
        for e in self.entries:
            if e[1] not in out:
                out.append(e[1])
        return out

    def has_peer(self, key):
        for e in self.entries:
            if e[1] == key:
                return True
        return False

    def forget_peer(self, key):
        """Drop every record of one phone. Returns how many went."""
        keep = [e for e in self.entries if e[1] != key]
        n = len(self.entries) - len(keep)
        if n:
            self.entries = keep
            self.names.pop(key, None)
            self.dirty = True
        return n

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
        if i < 0 and not self.has_peer(key):
            self.new_key = key
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
            self.names = {}
            self.dirty = True

    def save(self):
        """Write the records to flash if they changed. False if the flash refused (the
        records stay in RAM, marked dirty, and the next save tries again)."""
        if not self.dirty:
            return True
        for k in list(self.names):  # a name outlives no bond (eviction)
            if not self.has_peer(k):
                del self.names[k]
        try:
            self.store.write_cbor(self.name, self.entries)
            self.store.write_cbor(self.name + "_names", self.names)
        except OSError:
            self.save_errors += 1
            return False
        self.dirty = False
        self.saves += 1
        return True
