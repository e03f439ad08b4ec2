"""What the simulated camera sees: a built-in set of scenes drawn with Pillow, or the
images of a folder, rendered as JPEG at the sensor's frame size and quality.

Each built-in scene is drawn from its name and a seed (the same seed, the same picture:
small shifts, light and sensor noise differ per frame number). Some hold printed text
(`TEXT`), the ground truth for "read this". A folder's images (.jpg, .jpeg, .png) are
taken in name order, one per capture, scaled to the frame.
"""
import io
import os
import random

from PIL import Image, ImageDraw, ImageFont

# scene -> the words printed in it (None: no text)
TEXT = {
    "desk": None,
    "street": None,
    "park": None,
    "sign": "EXIT",
    "page": "The meeting moved to room four at noon",
    "label": "Oat milk 1 litre best before May 12",
}
SCENES = tuple(TEXT)
DEFAULT = "desk"
IMAGE_EXT = (".jpg", ".jpeg", ".png")


def _font(size):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # an old Pillow: the fixed bitmap font
        return ImageFont.load_default()


def _draw_scene(name, w, h, rng):
    sky = {"street": (150, 180, 215), "park": (130, 190, 235)}.get(name, (200, 195, 185))
    img = Image.new("RGB", (w, h), sky)
    d = ImageDraw.Draw(img)
    dx = rng.randint(-w // 40, w // 40)
    dy = rng.randint(-h // 40, h // 40)
    if name == "desk":
        d.rectangle((0, h * 2 // 3 + dy, w, h), fill=(120, 85, 55))
        d.rectangle((w // 5 + dx, h // 3 + dy, w // 2 + dx, h * 2 // 3 + dy), fill=(40, 40, 45))
        d.ellipse((w * 3 // 5 + dx, h // 2 + dy, w * 4 // 5 + dx, h * 3 // 4 + dy),
                  fill=(230, 230, 230))
    elif name == "street":
        d.rectangle((0, h // 2 + dy, w, h), fill=(70, 70, 75))
        for i in range(4):
            x = i * w // 4 + dx
            d.rectangle((x, h // 5, x + w // 6, h // 2 + dy),
                        fill=(160 + 20 * i, 120, 100 + 15 * i))
        d.rectangle((0, h * 3 // 4 + dy, w, h * 3 // 4 + dy + h // 60), fill=(240, 240, 240))
    elif name == "park":
        d.rectangle((0, h * 3 // 5 + dy, w, h), fill=(70, 150, 60))
        for i in range(3):
            x = w // 6 + i * w // 3 + dx
            d.rectangle((x, h // 3, x + w // 40, h * 3 // 5 + dy), fill=(90, 60, 30))
            d.ellipse((x - w // 12, h // 6, x + w // 10, h // 2), fill=(40, 120, 40))
    else:  # a text scene: a sign, a page, a label
        paper = {"sign": (20, 130, 60), "page": (245, 245, 240), "label": (250, 250, 250)}[name]
        ink = (255, 255, 255) if name == "sign" else (20, 20, 20)
        box = (w // 10 + dx, h // 5 + dy, w * 9 // 10 + dx, h * 4 // 5 + dy)
        d.rectangle(box, fill=paper)
        words = TEXT[name].split()
        size = h // 6 if name == "sign" else h // 14
        font = _font(size)
        lines, line = [], ""
        for word in words:  # wrap within the box
            trial = (line + " " + word).strip()
            if d.textlength(trial, font=font) > (box[2] - box[0]) * 0.9 and line:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
        y = box[1] + (box[3] - box[1] - len(lines) * size * 5 // 4) // 2
        for ln in lines:
            x = box[0] + ((box[2] - box[0]) - int(d.textlength(ln, font=font))) // 2
            d.text((x, y), ln, fill=ink, font=font)
            y += size * 5 // 4
    return img


def _noise(img, rng):
    """Sensor grain and an exposure difference, per frame (real scenes have texture: a
    flat drawing would compress to a fraction of a real VGA photo's 20-40 KB)."""
    gain = 0.92 + 0.16 * rng.random()
    img = img.point(lambda v: max(0, min(255, int(v * gain))))
    grain = Image.effect_noise(img.size, 40 + 10 * rng.random()).convert("RGB")
    return Image.blend(img, grain, 0.12)


def render(scene, w, h, quality, seed, frame):
    """The JPEG bytes of one frame: a built-in scene name or an image file path."""
    rng = random.Random((seed * 7919 + frame) & 0xFFFFFFFF)
    if scene in TEXT:
        img = _draw_scene(scene, w, h, random.Random(seed))
    else:
        with Image.open(scene) as src:
            img = src.convert("RGB").resize((w, h))
    img = _noise(img, rng)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=max(5, min(95, int(quality))))
    return out.getvalue()


def word_accuracy(scene, text):
    """The share of a text scene's words found in text, in their order (case aside): how
    well "read this" read it (1.0: every word)."""
    import difflib
    truth = TEXT[scene].lower().split()
    got = text.lower().split()
    m = difflib.SequenceMatcher(a=truth, b=got, autojunk=False)
    return sum(b.size for b in m.get_matching_blocks()) / len(truth)


def folder_images(path):
    """The image files of a folder, in name order (ValueError if there are none)."""
    names = sorted(n for n in os.listdir(path) if n.lower().endswith(IMAGE_EXT))
    if not names:
        raise ValueError("no images (%s) in %s" % (", ".join(IMAGE_EXT), path))
    return [os.path.join(path, n) for n in names]
