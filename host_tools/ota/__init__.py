"""The phone's side of updates: building and signing packages (package.py) and sending
them to the glasses, resumable (host.py)."""
