"""Offline licenses on the client: verify the service's signature, unwrap the content key.

A license is ``{"license": {...payload...}, "signature": b64}``; the signature is
Ed25519 over ``canonical(payload)`` (sorted keys, no spaces, UTF-8). The payload's
``wrapped_key`` is the title's content key encrypted for this device:
``X25519(ephemeral, device) -> HKDF-SHA256(salt=epk|device_pub, info="marquee-license-v1|<license_id>|<content_id>")
-> AES-256-GCM(nonce, key, aad="<license_id>|<content_id>")``.

Pure: keys and documents in, values out.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from drm.errors import license_error
from drm.keystore import raw_public

WRAP_ALG = "X25519-HKDF-SHA256-A256GCM"
_FORGED = "This download's license is not valid (its signature does not check). Download the title again."


def canonical(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def b64d(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


@dataclass(frozen=True)
class License:
    license_id: str
    account_id: str
    device_id: str
    title_id: str
    episode_id: str | None
    content_id: str
    media_id: str
    issued_at: float
    expires_at: float
    playback_duration_s: float
    can_renew: bool
    server_time: float
    device_public_key: str
    document: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @property
    def license_duration_s(self) -> float:
        return self.expires_at - self.issued_at


def public_key_from_b64(text: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(b64d(text))
    except (ValueError, TypeError) as exc:
        raise license_error("service_key_invalid", f"not an Ed25519 public key: {exc}",
                            "The service's license key is not valid.") from exc


def verify_license(document: Mapping[str, Any], service_key: Ed25519PublicKey, device_public: bytes) -> License:
    """Check the signature with the pinned key and that the license is bound to this device."""
    try:
        payload = document["license"]
        signature = b64d(str(document["signature"]))
        if not isinstance(payload, dict):
            raise TypeError("payload is not an object")
    except (KeyError, TypeError, ValueError) as exc:
        raise license_error("license_malformed", f"license document malformed: {exc}", _FORGED) from exc
    try:
        service_key.verify(signature, canonical(payload))
    except InvalidSignature:
        raise license_error("license_forged", "license signature does not verify with the pinned service key",
                            _FORGED) from None
    try:
        lic = License(
            license_id=str(payload["license_id"]), account_id=str(payload["account_id"]),
            device_id=str(payload["device_id"]), title_id=str(payload["title_id"]),
            episode_id=payload.get("episode_id"), content_id=str(payload["content_id"]),
            media_id=str(payload["media_id"]), issued_at=float(payload["issued_at"]),
            expires_at=float(payload["expires_at"]), playback_duration_s=float(payload["playback_duration_s"]),
            can_renew=bool(payload["can_renew"]), server_time=float(payload["server_time"]),
            device_public_key=str(payload["device_public_key"]), document=dict(document))
    except (KeyError, TypeError, ValueError) as exc:
        raise license_error("license_malformed", f"license payload malformed: {exc}", _FORGED) from exc
    if payload.get("v") != 1:
        raise license_error("license_version", f"license version {payload.get('v')!r} unsupported",
                            "This license needs a newer version of Marquee.")
    if b64d(lic.device_public_key) != device_public:
        raise license_error("license_wrong_device", "license is bound to another device key",
                            "This download belongs to another device. Download the title again here.")
    return lic


def unwrap_content_key(lic: License, device_private: X25519PrivateKey) -> bytes:
    wrapped = lic.document["license"]["wrapped_key"]
    try:
        if wrapped["alg"] != WRAP_ALG:
            raise ValueError(f"unknown wrapping {wrapped['alg']!r}")
        epk = b64d(wrapped["epk"])
        nonce, ct = b64d(wrapped["nonce"]), b64d(wrapped["ciphertext"])
        shared = device_private.exchange(X25519PublicKey.from_public_bytes(epk))
        kek = HKDF(algorithm=hashes.SHA256(), length=32, salt=epk + raw_public(device_private),
                   info=f"marquee-license-v1|{lic.license_id}|{lic.content_id}".encode()).derive(shared)
        key = AESGCM(kek).decrypt(nonce, ct, f"{lic.license_id}|{lic.content_id}".encode())
    except (KeyError, TypeError, ValueError, InvalidTag) as exc:
        raise license_error("license_key_invalid", f"the content key does not unwrap: {exc!r}",
                            "This download's key cannot be opened on this device. Download the title again.") from exc
    if len(key) != 32:
        raise license_error("license_key_invalid", "content key has the wrong length")
    return key
