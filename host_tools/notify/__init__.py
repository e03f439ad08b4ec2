"""The phone's side of notifications: building and sending them, replies and actions
from the glasses (client.py), and the phone's wiring of them on a Phone (host.py)."""
