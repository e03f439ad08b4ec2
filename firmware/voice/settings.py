# The voice feature's settings, with their defaults; a board or the simulator overrides
# any of them in the app's config (firmware/app.py).
CONFIG = {
    # how a query starts: "wake" (the VAD opens a stream, the phone listens for the wake
    # word and drops what has none), "vad" (any speech is a query), "tap" (tap-to-talk
    # only: the microphone is open only while talking). A tap always starts one.
    "voice_start": "wake",
    "voice_vad": True,  # False: the same as voice_start "tap" (the older key)
    "voice_volume": 8,  # speaker volume 0..10 until the wearer changes it (kept in flash)
    "voice_start_muted": True,  # muted until the wear wiring says the glasses are worn
    "voice_max_ms": 15000,  # longest utterance
    "voice_hangover_ms": 600,  # quiet that ends an utterance (VAD)
    "voice_silence_ms": 5000,  # a tap with no speech this long ends the utterance
    "voice_first_ms": 10000,  # the phone's first chunk (the text answer) within this
    "voice_stall_ms": 3000,  # each later chunk within this
    "voice_offline_bytes": 32768,  # the query kept while the phone is unreachable
    "voice_keep_ms": 60000,  # ... for this long after it ended
    # buffers (a board chooses smaller ones in its DATA["config"]: boards/README.md)
    "voice_ring_frames": 24,  # the capture ring, 20 ms frames of 640 bytes (>= preroll + 4)
    # frames kept before a VAD start, from the ring (<= voice_ring_frames - 4): 12 (240 ms)
    # keeps a soft first word the VAD starts late on in a noisy room (8: -5 points at 10 dB)
    "voice_preroll_frames": 12,
    "voice_jitter_slots": 8,  # the playback jitter buffer: packets (a power of two)
    "voice_jitter_packet_bytes": 643,  # ... of at most this size (a 20 ms PCM16 packet)
}
