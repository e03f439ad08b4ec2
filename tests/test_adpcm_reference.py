"""The firmware's IMA ADPCM against an independent implementation: CPython's audioop
(lin2adpcm / adpcm2lin, the IMA/DVI algorithm). audioop packs the first sample in the high
nibble; the firmware format puts it in the low nibble (as IMA ADPCM WAV files do)."""
import array
import random
import warnings

import pytest

from firmware.voice import adpcm

with warnings.catch_warnings():  # deprecated since 3.11 (PyPI audioop-lts from 3.13 on)
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop


def _swap(b):
    return bytes(((x & 15) << 4) | (x >> 4) for x in b)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_codes_and_state_match_audioop(seed):
    rnd = random.Random(seed)
    pcm = array.array("h", [max(-32768, min(32767, int(rnd.gauss(0, 4000)
                                                       + 9000 * ((i // (40 + seed)) % 2))))
                            for i in range(3200)])
    st = adpcm.State()
    out = bytearray(adpcm.encoded_size(len(pcm)))
    n = adpcm.encode(st, pcm, len(pcm), out, 0)
    ref, (pred, index) = audioop.lin2adpcm(pcm.tobytes(), 2, None)
    assert _swap(out[3:n]) == ref
    assert (st.predictor, st.index) == (pred, index)
    dec = array.array("h", bytes(2 * len(pcm)))
    adpcm.decode(adpcm.State(), out, 0, n, dec)
    assert dec.tobytes() == audioop.adpcm2lin(ref, 2, None)[0]
