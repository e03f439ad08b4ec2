"""Optional vision backend for "what am I looking at": an OpenAI-compatible
chat-completions endpoint that takes an image (e.g. a local Ollama with a vision model,
POST .../v1/chat/completions with the photo as a data: URL). Off by default. urllib only.

    GLASSES_VISION_URL    base URL, e.g. http://127.0.0.1:11434/v1
    GLASSES_VISION_MODEL  model name sent in the request (e.g. llava)
    GLASSES_VISION_KEY    optional bearer token
    GLASSES_VISION_TIMEOUT_S  request timeout (default 30)
"""
import base64
import json
import os
import urllib.error
import urllib.request

from host_tools.errors import VisionError
from host_tools.voice.backend import completions_url

PROMPT = ("You see through the camera of a pair of smart glasses without a screen. "
          "Answer the wearer in one or two short spoken sentences, no lists, no markdown.")
MAX_ANSWER_CHARS = 400


class VisionBackend:
    def __init__(self, url, model, key=None, timeout_s=30.0):
        if not url.startswith(("http://", "https://")) or not model:
            raise VisionError("the vision service needs an http(s) URL and a model name")
        self.url = completions_url(url)
        self.model = model
        self.key = key
        self.timeout_s = timeout_s

    @classmethod
    def from_env(cls, env=None):
        env = os.environ if env is None else env
        url = env.get("GLASSES_VISION_URL", "").strip()
        if not url:
            return None
        return cls(url, env.get("GLASSES_VISION_MODEL", "").strip(),
                   env.get("GLASSES_VISION_KEY") or None,
                   float(env.get("GLASSES_VISION_TIMEOUT_S", "30")))

    def describe(self, question, jpeg):
        """The model's answer about the photo; VisionError with the reason otherwise."""
        img = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
        body = json.dumps({"model": self.model, "stream": False, "max_tokens": 200,
                           "messages": [{"role": "system", "content": PROMPT},
                                        {"role": "user", "content": [
                                            {"type": "text", "text": question},
                                            {"type": "image_url", "image_url": {"url": img}}]}]
                           }).encode()
        headers = {"Content-Type": "application/json"}
        if self.key:
            headers["Authorization"] = "Bearer " + self.key
        req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                raw = resp.read(1 << 20)
        except urllib.error.HTTPError as e:
            raise VisionError("the vision service answered HTTP %d" % e.code) from e
        except (urllib.error.URLError, OSError) as e:
            if isinstance(e, TimeoutError) or isinstance(getattr(e, "reason", None),
                                                         TimeoutError):
                raise VisionError("the vision service did not answer within %.0f s"
                                  % self.timeout_s) from e
            raise VisionError("the vision service is not reachable (%s)"
                              % getattr(e, "reason", e)) from e
        try:
            content = json.loads(raw)["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise VisionError("the vision service sent a reply that is not a chat "
                              "completion") from None
        if not isinstance(content, str) or not content.strip():
            raise VisionError("the vision service sent an empty answer")
        return " ".join(content.split())[:MAX_ANSWER_CHARS]

    def answer(self, question, jpeg):
        """What to say: the answer, or an honest sentence why there is none."""
        try:
            return self.describe(question, jpeg)
        except VisionError as e:
            return "I couldn't look at that: %s. The photo is in your gallery." % e
