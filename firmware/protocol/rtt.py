# Round-trip time and the retransmission timeout (Jacobson/Karels as in RFC 6298, in
# integer milliseconds): srtt and rttvar are kept scaled (x8, x4) so no precision is lost
# without floats. Samples come only from messages sent once (Karn's rule, in the caller).


class Rtt:
    def __init__(self, init_ms, min_ms, max_ms):
        self.min_ms = min_ms
        self.max_ms = max_ms
        self.rto = init_ms
        self._srtt8 = -1  # -1 before the first sample
        self._rttvar4 = 0

    def srtt(self):
        """Smoothed RTT in ms, -1 before any sample."""
        return self._srtt8 >> 3 if self._srtt8 >= 0 else -1

    def sample(self, r):
        if r < 0:
            r = 0
        if self._srtt8 < 0:
            self._srtt8 = r << 3
            self._rttvar4 = r << 1
        else:
            err = r - (self._srtt8 >> 3)
            self._srtt8 += err
            if err < 0:
                err = -err
            self._rttvar4 += err - (self._rttvar4 >> 2)
        rto = (self._srtt8 >> 3) + self._rttvar4
        if rto < self.min_ms:
            rto = self.min_ms
        elif rto > self.max_ms:
            rto = self.max_ms
        self.rto = rto

    def rto_for(self, backoff):
        """The timeout after `backoff` consecutive timeouts (doubling, capped)."""
        rto = self.rto << backoff
        return rto if rto < self.max_ms else self.max_ms
