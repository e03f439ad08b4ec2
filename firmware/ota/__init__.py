# Over-the-air updates: the receiver (receiver.py), boot selection and trials (boot.py),
# signed manifests (manifest.py, ed25519.py, sha512.py) and the feature (service.py).
