# Audio on the glasses: capture ring, VAD, IMA ADPCM codec, chimes, jitter buffer,
# capture/playback tasks. See docs/voice.md.
