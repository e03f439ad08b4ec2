"""The text reader's worker process (`python -m host_tools.camera.ocr_worker --models DIR`):
RapidOCR (rapidocr-onnxruntime, PP-OCRv4 det/rec/cls ONNX models, loaded by path from DIR,
by default the models folder of the installed wheel) behind stdin/stdout. The camera host
starts it (host_tools/camera/ocr.py) so the OCR's compute never runs in the host's process.

Frames both ways: a 4-byte big-endian length, then the body. The worker first sends
{"ready": models dir} or {"error": why} (and exits); then for each JPEG it reads it
answers {"lines": [[text, score, x, y], ...]} (top to bottom, left to right) or {"error"}.

PP-OCRv4's recogniser (trained mostly on Chinese) often drops the spaces between Latin
words ("fouratnoon"); `spaced()` puts them back where the line's image has a blank
column run wider than WORD_GAP of the ink's height between two characters.
"""
import argparse
import json
import os
import struct
import sys

FILES = {"det": "ch_PP-OCRv4_det_infer.onnx", "rec": "ch_PP-OCRv4_rec_infer.onnx",
         "cls": "ch_ppocr_mobile_v2.0_cls_infer.onnx"}
PACKAGE = "rapidocr-onnxruntime"
WORD_GAP = 0.3  # a blank run this wide (x the line's ink height) is a space between words


def default_models_dir():
    """The models folder inside the installed rapidocr_onnxruntime package (None if the
    package is not installed); found without importing it."""
    import importlib.util
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None or not spec.origin:
        return None
    return os.path.join(os.path.dirname(spec.origin), "models")


def load_engine(models_dir=None):
    """A RapidOCR on the three models in models_dir; RuntimeError naming the package and
    what is missing otherwise."""
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as e:
        raise RuntimeError("the OCR engine %s is not installed (%s)" % (PACKAGE, e)) from None
    models_dir = models_dir or default_models_dir()
    paths = {k: os.path.join(models_dir, f) for k, f in FILES.items()}
    missing = [FILES[k] for k, p in paths.items() if not os.path.isfile(p)]
    if missing:
        raise RuntimeError("the OCR models of %s are missing (%s not in %s)"
                           % (PACKAGE, ", ".join(missing), models_dir))
    try:
        return RapidOCR(det_model_path=paths["det"], rec_model_path=paths["rec"],
                        cls_model_path=paths["cls"], text_score=0.0)
    except Exception as e:  # a broken model file, an onnxruntime that refuses it
        raise RuntimeError("the OCR models of %s in %s do not load: %s"
                           % (PACKAGE, models_dir, e)) from None


def _gaps(ink, x0):
    """Blank column runs (start, end) inside a line's ink mask, wider than WORD_GAP."""
    rows = ink.any(axis=1).nonzero()[0]
    height = rows[-1] - rows[0] + 1 if len(rows) else ink.shape[0]
    cols = ink.sum(axis=0) > max(1, 0.04 * ink.shape[0])
    out, start = [], None
    for i, c in enumerate(cols):
        if not c and start is None:
            start = i
        elif c and start is not None:
            if i - start >= WORD_GAP * height and start > 0:
                out.append((x0 + start, x0 + i))
            start = None
    return out


def spaced(gray, box, chars, char_boxes):
    """The line's characters with a space wherever a word gap lies between two of them."""
    import cv2
    import numpy as np
    text = "".join(chars)
    if len(chars) != len(char_boxes) or len(chars) < 2:
        return text
    xs = [p[0] for p in box]
    ys = [p[1] for p in box]
    x0, x1 = int(max(0, min(xs))), int(min(gray.shape[1], max(xs)))
    y0, y1 = int(max(0, min(ys))), int(min(gray.shape[0], max(ys)))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return text
    _, bw = cv2.threshold(gray[y0:y1, x0:x1], 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    border = np.concatenate([bw[0], bw[-1], bw[:, 0], bw[:, -1]])
    ink = bw != (255 if border.mean() > 127 else 0)  # dark on light or light on dark
    gaps = _gaps(ink, x0)
    cx = [(b[0][0] + b[1][0]) / 2 for b in char_boxes]
    out = chars[0]
    for i in range(1, len(chars)):
        if " " not in (chars[i], chars[i - 1]) and \
                any(cx[i - 1] <= (a + b) / 2 < cx[i] for a, b in gaps):
            out += " "
        out += chars[i]
    return out


def ordered(lines):
    """[(text, score, x, y, height)] -> top to bottom (a line's boxes within half a box
    height of each other count as one row), left to right within a row."""
    rows = []
    for ln in sorted(lines, key=lambda t: t[3]):
        if rows and abs(ln[3] - rows[-1][0][3]) < 0.5 * max(ln[4], rows[-1][0][4]):
            rows[-1].append(ln)
        else:
            rows.append([ln])
    return [ln for row in rows for ln in sorted(row, key=lambda t: t[2])]


def read(engine, jpeg):
    """[[text, score, x, y]] of the text lines in a JPEG, in reading order."""
    import cv2
    import numpy as np
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError("the photo is not an image OpenCV can decode")
    res, _ = engine(img, return_word_box=True)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    lines = []
    for r in res or ():
        box, text, score = r[0], r[1], float(r[2])
        if len(r) >= 5 and r[3] and r[4]:
            text = spaced(gray, box, list(r[4]), r[3])
        ys = [p[1] for p in box]
        lines.append((" ".join(text.split()), score, min(p[0] for p in box),
                      (min(ys) + max(ys)) / 2, max(ys) - min(ys)))
    return [[t, round(s, 4), int(x), int(y)] for t, s, x, y, _ in ordered(lines) if t]


def _frame_out(f, obj):
    body = json.dumps(obj).encode()
    f.write(struct.pack(">I", len(body)) + body)
    f.flush()


def _frame_in(f):
    head = f.read(4)
    if len(head) < 4:
        return None
    n = struct.unpack(">I", head)[0]
    body = f.read(n)
    return body if len(body) == n else None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="", help="folder of the three ONNX models")
    args = ap.parse_args(argv)
    out = os.fdopen(os.dup(1), "wb")  # the frames' own copy of stdout ...
    os.dup2(2, 1)  # ... and anything a library prints goes to the log instead
    inp = sys.stdin.buffer
    try:
        engine = load_engine(args.models or None)
    except RuntimeError as e:
        _frame_out(out, {"error": str(e)})
        return 3
    _frame_out(out, {"ready": args.models or default_models_dir()})
    while True:
        jpeg = _frame_in(inp)
        if jpeg is None:  # the host closed the pipe: done
            return 0
        try:
            _frame_out(out, {"lines": read(engine, jpeg)})
        except Exception as e:  # one bad photo does not end the worker
            _frame_out(out, {"error": "%s: %s" % (type(e).__name__, e)})


if __name__ == "__main__":
    sys.exit(main())
