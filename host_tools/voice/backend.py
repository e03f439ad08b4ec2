"""Optional answer backend: an OpenAI-compatible chat-completions endpoint (a local
llama.cpp / Ollama / vLLM server, or a hosted one) that the user configures. Off by
default. urllib only.

    GLASSES_LLM_URL    base URL, e.g. http://127.0.0.1:8080/v1 (POSTs to .../chat/completions)
    GLASSES_LLM_MODEL  model name sent in the request
    GLASSES_LLM_KEY    optional bearer token
    GLASSES_LLM_TIMEOUT_S  request timeout (default 20)
"""
import json
import os
import urllib.error
import urllib.request

from host_tools.voice.assist import Reply

SYSTEM_PROMPT = ("You are the voice assistant of a pair of smart glasses without a "
                 "screen. Answer in one or two short spoken sentences, no lists, no "
                 "markdown.")
MAX_ANSWER_CHARS = 600


class BackendError(RuntimeError):
    pass


def completions_url(url):
    """An OpenAI-compatible service's base URL -> its /chat/completions endpoint."""
    url = url.rstrip("/")
    return url if url.endswith("/chat/completions") else url + "/chat/completions"


class ChatBackend:
    def __init__(self, url, model, key=None, timeout_s=20.0, max_tokens=200):
        if not url or not model:
            raise BackendError("the answer service needs both a URL and a model name")
        if not url.startswith(("http://", "https://")):
            raise BackendError("the answer service URL must start with http:// or "
                               "https://, got %r" % url)
        self.url = completions_url(url)
        self.model = model
        self.key = key
        self.timeout_s = timeout_s
        self.max_tokens = max_tokens

    @classmethod
    def from_env(cls, env=None):
        """The configured backend, or None when GLASSES_LLM_URL is not set."""
        env = os.environ if env is None else env
        url = env.get("GLASSES_LLM_URL", "").strip()
        if not url:
            return None
        model = env.get("GLASSES_LLM_MODEL", "").strip()
        if not model:
            raise BackendError("GLASSES_LLM_URL is set but GLASSES_LLM_MODEL is not")
        return cls(url, model, env.get("GLASSES_LLM_KEY") or None,
                   float(env.get("GLASSES_LLM_TIMEOUT_S", "20")))

    def complete(self, text):
        """The model's answer text; BackendError with the reason otherwise."""
        body = json.dumps({
            "model": self.model,
            "messages": [{"role": "system", "content": SYSTEM_PROMPT},
                         {"role": "user", "content": text}],
            "max_tokens": self.max_tokens,
            "stream": False,
        }).encode()
        headers = {"Content-Type": "application/json"}
        if self.key:
            headers["Authorization"] = "Bearer " + self.key
        req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                raw = resp.read(1 << 20)
        except urllib.error.HTTPError as e:
            raise BackendError("the answer service at %s answered HTTP %d" % (self.url,
                                                                               e.code)) from e
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise BackendError("the answer service at %s is not reachable (%s)"
                               % (self.url, reason)) from e
        try:
            data = json.loads(raw)
            content = data["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise BackendError("the answer service at %s sent a reply that is not a chat "
                               "completion" % self.url) from None
        if not isinstance(content, str) or not content.strip():
            raise BackendError("the answer service at %s sent an empty answer" % self.url)
        return " ".join(content.split())[:MAX_ANSWER_CHARS]

    def ask(self, text):
        """A Reply: the model's answer, or a sentence saying why there is none."""
        try:
            return Reply(self.complete(text))
        except BackendError as e:
            return Reply("Sorry, I can't answer that now: %s." % e,
                         [{"type": "backend_error", "reason": str(e)}])
