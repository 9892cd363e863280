"""A stand-in for Firebase Cloud Messaging HTTP v1 and Google's OAuth2 token endpoint, on
the loopback ``ProviderServer``.

    stand_in = FcmStandIn(provider_server, tmp_path)   # writes a service-account key file
    settings.FCM_CREDENTIALS_FILE = stand_in.credentials_file
    settings.FCM_API_URL = provider_server.url

The token endpoint (``/token``, the key file's ``token_uri``) takes only the JWT bearer
grant with an assertion signed by the key file's private key (checked with its public
key, RS256), issued by the service account, for Google's token audience and FCM's scope,
as Google documents; it answers an access token valid for an hour. ``messages:send`` takes
only a token issued here and not revoked (401 ``UNAUTHENTICATED`` otherwise), answers
404 ``UNREGISTERED`` for the tokens in ``unregistered``, and otherwise 200 with the
message's name.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .providers import Answer, ProviderServer, ReceivedRequest

PROJECT = "medguard-stand-in"
CLIENT_EMAIL = f"push-sender@{PROJECT}.iam.gserviceaccount.com"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# The assertion's audience, whatever the token endpoint's address (Google's documentation
# for service accounts: "aud" is always this).
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL
FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"


def fcm_error(status: int, google_status: str, error_code: str = "", message: str = "") -> Answer:
    """An FCM v1 error answer as documented: Google's error object, with FCM's
    ``errorCode`` in ``details`` when it has one."""
    error: dict[str, Any] = {
        "code": status,
        "message": message or google_status,
        "status": google_status,
    }
    if error_code:
        error["details"] = [{"@type": FCM_ERROR_TYPE, "errorCode": error_code}]
    return Answer(status, {"error": error})


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FcmStandIn:
    def __init__(self, server: ProviderServer, folder: Path) -> None:
        self.server = server
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.token_uri = f"{server.url}/token"
        self.credentials_file = str(folder / "fcm-service-account.json")
        self.unregistered: set[str] = set()
        self.issued: list[str] = []
        self.revoked: set[str] = set()
        self.assertions: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        Path(self.credentials_file).write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": PROJECT,
                    "private_key_id": "stand-in-key-1",
                    "private_key": pem,
                    "client_email": CLIENT_EMAIL,
                    "client_id": "100000000000000000001",
                    "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                    "token_uri": self.token_uri,
                    "universe_domain": "googleapis.com",
                }
            )
        )
        server.route("POST", "/token", self._token)
        server.route("POST", f"/v1/projects/{PROJECT}/messages:send", self._send)

    @property
    def send_path(self) -> str:
        return f"/v1/projects/{PROJECT}/messages:send"

    def revoke_all(self) -> None:
        """Every token issued so far is refused from now on (as after a key rotation)."""
        with self._lock:
            self.revoked.update(self.issued)

    # --- Google's token endpoint ---

    def _token(self, request: ReceivedRequest) -> Answer:
        form = request.form()
        claims = self._verified_claims(form.get("assertion", ""))
        if form.get("grant_type") != JWT_BEARER or claims is None:
            return Answer(400, {"error": "invalid_grant", "error_description": "Invalid JWT."})
        now = time.time()
        if (
            claims.get("iss") != CLIENT_EMAIL
            or claims.get("aud") != GOOGLE_TOKEN_AUDIENCE
            or SCOPE not in str(claims.get("scope", "")).split()
            or not claims.get("iat", 0) - 300 <= now <= claims.get("exp", 0)
        ):
            return Answer(
                400, {"error": "invalid_grant", "error_description": "Invalid JWT claims."}
            )
        with self._lock:
            self.assertions.append(claims)
            token = f"ya29.stand-in-{next(self._ids)}"
            self.issued.append(token)
        return Answer(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _verified_claims(self, assertion: str) -> dict[str, Any] | None:
        try:
            header, claims, signature = assertion.split(".")
            if json.loads(_unb64url(header)).get("alg") != "RS256":
                return None
            self.key.public_key().verify(
                _unb64url(signature),
                f"{header}.{claims}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
            decoded = json.loads(_unb64url(claims))
        except (ValueError, InvalidSignature):
            return None
        return decoded if isinstance(decoded, dict) else None

    # --- FCM HTTP v1 ---

    def _send(self, request: ReceivedRequest) -> Answer:
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        with self._lock:
            known = bearer in self.issued and bearer not in self.revoked
        if not known:
            return fcm_error(
                401,
                "UNAUTHENTICATED",
                message="Request had invalid authentication credentials.",
            )
        message = request.json().get("message", {})
        if message.get("token") in self.unregistered:
            return fcm_error(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.")
        return Answer(200, {"name": f"projects/{PROJECT}/messages/0:{next(self._ids)}"})
