"""The phone's side of the camera feature (docs/camera.md)."""
