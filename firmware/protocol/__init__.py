# The link protocol, sans-IO and shared with the host (docs/link.md): frames, channels, the
# session (session.py with handshake.py, receive.py, send.py), reliable and lossy channels,
# RTT, hello, offload RPC, message kinds, UUIDs, and the endpoint (endpoint.py) that routes
# messages to the features. It imports only firmware/runtime.
