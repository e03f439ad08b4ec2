"""The camera's voice intents (host_tools/voice/intents.py): "take a photo" asks the
glasses for one (the action {"type": "photo"}, firmware/camera/service.py). The answer
is empty: the shutter chime says it. "What am I looking at" takes a photo with the
question; the vision backend (host_tools/camera/vision.py) answers once it is on the
phone; without one configured the answer says so honestly, and the photo is kept.
"Read this" takes a photo for the offline text reader (host_tools/camera/ocr.py): the
text comes back with the photo's PHOTO_DONE, and the glasses say it."""
from host_tools.camera.ocr import READ_ASK
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


def _read(ctx, slots):
    return Reply("Let me read it.", [{"type": "photo", "ask": READ_ASK}])


def register(r):
    r.intent("photo", ["(take|snap|shoot) a (photo|picture|pic|shot)",
                       "(take|snap) [a] photo [of (this|that)]", "take a picture [of (this|that)]",
                       "photo please"], "take photos")(_photo)
    r.intent("look", ["what am i looking at", "what is (this|that)", "what do you see",
                      "describe what you see"])(_look)
    r.intent("read", ["[please] read (this|that|it) [out] [loud|aloud] [to me|for me]",
                      "[can you] read me (this|that|it)", "can you read (this|that|it) [to me]",
                      "what does (this|that|it) say", "what does (this|that) read",
                      "what is written (here|there|on (this|that))"],
             "read text you point at")(_read)
    return r
