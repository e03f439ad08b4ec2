"""The camera's voice intents (host_tools/voice/intents.py): "take a photo" asks the
glasses for one (the action {"type": "photo"}, firmware/camera/service.py). The answer
is empty: the shutter chime says it. "What am I looking at" takes a photo with the
question; the vision backend (host_tools/camera/vision.py) answers once it is on the
phone; without one configured the answer says so honestly, and the photo is kept."""
from host_tools.voice.assist import Reply


def _photo(ctx, slots):
    return Reply("", [{"type": "photo"}])


def _look(ctx, slots):
    import os
    if os.environ.get("GLASSES_VISION_URL"):  # the answer comes with the photo
        return Reply("Let me look.", [{"type": "photo", "ask": "what am I looking at"}])
    return Reply("I have no vision service set up, so I can't tell what the camera sees. "
                 "I took a photo; it is in your gallery.",
                 [{"type": "photo", "ask": "what am I looking at"}])


def register(r):
    r.intent("photo", ["(take|snap|shoot) a (photo|picture|pic|shot)",
                       "(take|snap) [a] photo [of (this|that)]", "take a picture [of (this|that)]",
                       "photo please"], "take photos")(_photo)
    r.intent("look", ["what am i looking at", "what is (this|that)", "what do you see",
                      "describe what you see"])(_look)
    return r
