"""Helpers for the phone host's voice tests (test_voice_host.py, test_voice_host_assistant.py):
the phone's clock they fix, and a stand-in for the third-party chat service."""
import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NOW = datetime.datetime(2026, 3, 4, 15, 7)


class ChatServer:
    """A tiny HTTP server speaking the OpenAI chat-completions format: a test double of
    a third-party service (not of our own code)."""

    def __init__(self, mode="ok"):
        self.mode = mode
        self.requests = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append((self.path, dict(self.headers), body))
                if outer.mode == "500":
                    self.send_response(500)
                    self.end_headers()
                    return
                if outer.mode == "garbage":
                    data = b"<html>not json</html>"
                else:
                    q = body["messages"][-1]["content"]
                    data = json.dumps({"id": "c1", "object": "chat.completion",
                                       "model": body["model"],
                                       "choices": [{"index": 0, "finish_reason": "stop",
                                                    "message": {"role": "assistant",
                                                                "content": "You asked: " + q}}]
                                       }).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/v1" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()
