"""The gateway's signing key (Ed25519) and the JWKS it publishes."""

import base64
import hashlib
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.settings import local_secret


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class SigningKey:
    def __init__(self, private_key: Ed25519PrivateKey):
        self.private_key = private_key
        public_raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.public_jwk: dict[str, Any] = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(public_raw)}
        self.kid = _b64url(hashlib.sha256(public_raw).digest()[:12])

    def jwks(self) -> dict[str, Any]:
        return {"keys": [{**self.public_jwk, "kid": self.kid, "alg": "EdDSA", "use": "sig"}]}

    @classmethod
    def generate(cls) -> "SigningKey":
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: bytes) -> "SigningKey":
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the gateway signing key must be Ed25519")
        return cls(key)

    def to_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


def load_or_create(path: Path) -> SigningKey:
    """The key at `path`; created there (mode 0600, atomically) on the first run."""
    return SigningKey.from_pem(local_secret(path, lambda: SigningKey.generate().to_pem()))
