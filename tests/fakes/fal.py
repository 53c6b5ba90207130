"""A fake of fal.ai's queue API, its media CDN and its webhook signing keys, behind
`httpx.MockTransport`, speaking fal's wire format.

  POST https://queue.fal.run/{model_id}[?fal_webhook=...]   -> request_id and the three URLs
  GET  .../{owner}/{alias}/requests/{id}/status              -> IN_QUEUE / IN_PROGRESS / COMPLETED
  GET  .../{owner}/{alias}/requests/{id}                     -> the output, 400 while running
  PUT  .../{owner}/{alias}/requests/{id}/cancel              -> 202 CANCELLATION_REQUESTED / 400
  GET  https://v3.fal.media/files/{id}/output.mp4            -> the rendered file
  GET  https://rest.alpha.fal.ai/.well-known/jwks.json       -> the Ed25519 public key(s)
As on fal, status, result and cancel live under owner/alias only (a model id's sub-path is not
part of them). Submit checks `Authorization: Key <key>` and that `image_url` and `audio_url`
are decodable `data:` URIs, keeping what it received in `received`. Tests move a request on
with `start()`, `complete()` and `fail()`, script errors with `enqueue_response()` and
transport failures with `enqueue_failure()`, and get a signed webhook delivery from
`webhook()`. Every request lands in `history`.
"""

import base64
import hashlib
import json
import secrets
from collections import deque
from typing import Any
from urllib.parse import unquote

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

API_KEY = "fal_test_0123456789abcdef:secret"
QUEUE_URL = "https://queue.fal.run"
MEDIA_URL = "https://v3.fal.media"
JWKS_URL = "https://rest.alpha.fal.ai/.well-known/jwks.json"
USER_ID = "fal-user-42"


class FakeFal:
    def __init__(self, *, api_key: str = API_KEY, video: bytes = b"") -> None:
        self.api_key = api_key
        self.video = video  # what a completed request's file holds
        self.history: list[httpx.Request] = []
        self.requests: dict[str, dict[str, Any]] = {}
        self.received: list[dict[str, Any]] = []
        self.signing_key = Ed25519PrivateKey.generate()
        self.jwks_fetches = 0
        self._script: deque[httpx.Response | type[httpx.TransportError]] = deque()

    # --- scripting ---------------------------------------------------------------------------

    def enqueue_response(self, status: int, body: Any = None, *,
                         headers: dict[str, str] | None = None) -> None:
        self._script.append(httpx.Response(status, json=body if body is not None else
                                           {"detail": "scripted failure"}, headers=headers))

    def enqueue_failure(self, error: type[httpx.TransportError]) -> None:
        self._script.append(error)

    def start(self, request_id: str) -> None:
        self.requests[request_id]["state"] = "IN_PROGRESS"

    def complete(self, request_id: str) -> None:
        request = self.requests[request_id]
        request["state"] = "COMPLETED"
        request["output"] = {"video": {"url": f"{MEDIA_URL}/files/{request_id}/output.mp4",
                                       "content_type": "video/mp4", "file_name": "output.mp4",
                                       "file_size": len(self.video)}, "seed": 7}

    def fail(self, request_id: str, message: str = "Invalid status code: 422",
             error_type: str = "runner_error") -> None:
        request = self.requests[request_id]
        request.update(state="COMPLETED", error=message, error_type=error_type)

    def rotate_key(self) -> None:
        self.signing_key = Ed25519PrivateKey.generate()

    def webhook(self, request_id: str, *, timestamp: int, user_id: str = USER_ID,
                key: Ed25519PrivateKey | None = None) -> tuple[bytes, dict[str, str]]:
        """A delivery for the request as it stands: (raw body, headers), signed like fal's."""
        request = self.requests[request_id]
        if request.get("error"):
            body = {"request_id": request_id, "gateway_request_id": request_id,
                    "status": "ERROR", "error": request["error"],
                    "payload": {"detail": [{"loc": ["body"], "msg": request["error"],
                                            "type": "value_error"}]}}
        else:
            body = {"request_id": request_id, "gateway_request_id": request_id,
                    "status": "OK", "payload": request.get("output")}
        raw = json.dumps(body).encode()
        message = "\n".join([request_id, user_id, str(timestamp),
                             hashlib.sha256(raw).hexdigest()]).encode()
        signature = (key or self.signing_key).sign(message).hex()
        return raw, {"X-Fal-Webhook-Request-Id": request_id, "X-Fal-Webhook-User-Id": user_id,
                     "X-Fal-Webhook-Timestamp": str(timestamp),
                     "X-Fal-Webhook-Signature": signature, "Content-Type": "application/json"}

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))

    # --- the API -----------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.history.append(request)
        url = str(request.url)
        if url == JWKS_URL:
            self.jwks_fetches += 1
            public = self.signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            x = base64.urlsafe_b64encode(public).rstrip(b"=").decode()
            return httpx.Response(200, json={"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x,
                                                       "kid": "fal-test"}]})
        if self._script:
            scripted = self._script.popleft()
            if isinstance(scripted, httpx.Response):
                return scripted
            raise scripted("simulated transport failure", request=request)
        if url.startswith(MEDIA_URL + "/files/"):
            request_id = request.url.path.split("/")[2]
            if self.requests.get(request_id, {}).get("output") is None:
                return httpx.Response(404, text="Not Found")
            return httpx.Response(200, content=self.video,
                                  headers={"content-type": "video/mp4"})
        if not url.startswith(QUEUE_URL + "/"):
            return httpx.Response(404, json={"detail": "Not Found"})
        if request.headers.get("authorization") != f"Key {self.api_key}":
            return httpx.Response(401, json={"detail": "Unauthorized"})
        path = request.url.path.strip("/")
        if "/requests/" in path:
            return self._request_op(request, path)
        if request.method == "POST":
            return self._submit(request, path)
        return httpx.Response(405, json={"detail": "Method Not Allowed"})

    def _submit(self, request: httpx.Request, model_id: str) -> httpx.Response:
        try:
            body = json.loads(request.content)
        except ValueError:
            return httpx.Response(422, json={"detail": [{"loc": ["body"], "msg": "invalid JSON",
                                                         "type": "value_error"}]})
        decoded = {}
        for field in ("image_url", "audio_url"):
            value = body.get(field) if isinstance(body, dict) else None
            data = _decode_data_uri(value) if isinstance(value, str) else None
            if data is None:
                return httpx.Response(422, json={"detail": [{"loc": ["body", field],
                                                             "msg": "field required",
                                                             "type": "value_error.missing"}]})
            decoded[field] = data
        request_id = secrets.token_hex(8) + "-" + secrets.token_hex(4)
        app = "/".join(model_id.split("/")[:2])
        base = f"{QUEUE_URL}/{app}/requests/{request_id}"
        webhook = request.url.params.get("fal_webhook")
        self.requests[request_id] = {"model_id": model_id, "app": app, "state": "IN_QUEUE",
                                     "input": body, "webhook": unquote(webhook or "") or None,
                                     "lifecycle": request.headers.get(
                                         "x-fal-object-lifecycle-preference")}
        self.received.append({"request_id": request_id, "fields": sorted(body),
                              "image": decoded["image_url"], "audio": decoded["audio_url"]})
        return httpx.Response(200, json={
            "request_id": request_id, "gateway_request_id": request_id,
            "response_url": base, "status_url": f"{base}/status", "cancel_url": f"{base}/cancel",
            "status": "IN_QUEUE", "queue_position": 0})

    def _request_op(self, request: httpx.Request, path: str) -> httpx.Response:
        app, _, rest = path.partition("/requests/")
        request_id, _, op = rest.partition("/")
        stored = self.requests.get(request_id)
        if stored is None or stored["app"] != app:
            return httpx.Response(404, json={"detail": "Request not found"})
        state = stored["state"]
        if op == "status" and request.method == "GET":
            reply: dict[str, Any] = {"status": "COMPLETED" if state == "CANCELLED" else state,
                                     "response_url": f"{QUEUE_URL}/{path.rsplit('/', 1)[0]}",
                                     "logs": None, "metrics": {}}
            if state == "IN_QUEUE":
                reply["queue_position"] = 0
            if stored.get("error"):
                reply.update(error=stored["error"], error_type=stored["error_type"])
            return httpx.Response(200, json=reply)
        if op == "cancel" and request.method == "PUT":
            if state in ("IN_QUEUE", "IN_PROGRESS"):
                stored.update(state="CANCELLED", error="Request was cancelled",
                              error_type="request_cancelled")
                return httpx.Response(202, json={"status": "CANCELLATION_REQUESTED"})
            return httpx.Response(400, json={"status": "ALREADY_COMPLETED"})
        if op == "" and request.method == "GET":
            if state in ("IN_QUEUE", "IN_PROGRESS"):
                return httpx.Response(400, json={"detail": "Request is still in progress"})
            if stored.get("error"):
                return httpx.Response(422, json={"detail": [{"loc": ["body"],
                                                             "msg": stored["error"],
                                                             "type": "value_error"}]})
            return httpx.Response(200, json=stored["output"])
        return httpx.Response(405, json={"detail": "Method Not Allowed"})


def _decode_data_uri(value: str) -> bytes | None:
    head, sep, payload = value.partition(",")
    if not sep or not head.startswith("data:") or not head.endswith(";base64"):
        return None
    try:
        return base64.b64decode(payload, validate=True)
    except ValueError:
        return None
