# A saved corpus of malformed inputs, replayed by tests under CPython and MicroPython.
# Hex strings. Entries come from hand-written edge cases and from fuzzing with hypothesis
# (tests/test_cbor_vs_cbor2.py, tests/test_frame_fuzz.py); add new finds here.

CBOR_BAD = [
    "",                      # nothing at all
    "18", "19", "1a00", "1b000000",   # argument cut short
    "38", "5801", "7801", "98", "b8",  # argument of bytes/text/array/map cut short
    "41", "6261", "830102", "a201",    # content cut short
    "1c", "1d", "1e", "3c", "5c", "7c", "9c", "bc", "dc", "fc",  # reserved info 28-30
    "5f", "7f", "9f", "bf", "ff",      # indefinite lengths and a stray break
    "f8", "f820", "f7", "f0",          # simple values we do not carry
    "f9", "f900", "fa000000", "fb00000000000000",  # floats cut short
    "c0", "c06161", "c1", "d818", "c2", "c241", "c261", "c301",  # tags
    "a18001", "a1a00001",              # unhashable keys
    "62ff00", "61c3", "63e282",        # bad UTF-8
    "0000",                            # trailing bytes
    "9bffffffffffffffff", "bbffffffffffffffff",  # absurd counts
    "5bffffffffffffffff", "7b7fffffffffffffff",  # absurd lengths
    "81818181818181818181818181818181818100",  # too deep
    "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1000000000000000000000000000000000000",
]

# Frames that the Reassembler must refuse with FrameError.
FRAME_BAD = [
    "", "10", "1000",             # shorter than the header
    "180000", "f80100",           # reserved flag bit set
    "100100aa",                   # middle fragment with no start
    "120200bb",                   # last fragment with no start
]
