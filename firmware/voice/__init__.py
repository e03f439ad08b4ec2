# The voice feature on the glasses: microphone capture (capture.py, ring.py, vad.py), IMA
# ADPCM (adpcm.py, its viper twin, codec.py), the query kept while the phone is away
# (offline.py), playback, chimes and the answer stream, timers; service.py wires it into the
# app. See docs/voice.md.
