# The ADPCM codec the firmware uses, chosen once at import: the viper build where the
# MicroPython port has a native emitter, else the portable twin. Both produce identical
# bytes (tests/fw/test_adpcm.py), so nothing downstream can tell which one ran.
import sys

from firmware.voice import adpcm as _portable

encode = _portable.encode
decode = _portable.decode
VIPER = False
if sys.implementation.name == "micropython":
    try:
        from firmware.voice import adpcm_viper as _viper  # SyntaxError without an emitter

        encode = _viper.encode
        decode = _viper.decode
        VIPER = True
    except (ImportError, SyntaxError):
        pass

State = _portable.State
AdpcmError = _portable.AdpcmError
HEADER_BYTES = _portable.HEADER_BYTES
encoded_size = _portable.encoded_size
NAME = "viper" if VIPER else "portable"
