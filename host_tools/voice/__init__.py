"""The phone host's speech side: ASR (pocketsphinx), TTS (eSpeak NG), the intent
assistant, and the handlers the offload RPC registers by name (see docs/voice.md)."""
