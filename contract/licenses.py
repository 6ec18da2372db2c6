"""Offline licenses (``/v1/licenses``): the signed document a device stores with a download.

The service signs the canonical JSON of ``LicensePayload`` (``signature`` is Ed25519 over it);
the client (``drm.license``) verifies it and reads the same fields.
"""

from __future__ import annotations

import msgspec


class WrappedKey(msgspec.Struct, frozen=True):
    """The content key, encrypted to the device's X25519 public key (all fields base64)."""

    alg: str
    epk: str
    nonce: str
    ciphertext: str


class LicensePayload(msgspec.Struct, frozen=True, kw_only=True):
    v: int = 1
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
    renewals: int
    server_time: float
    key_id: str
    device_public_key: str
    wrapped_key: WrappedKey


class SignedLicense(msgspec.Struct, frozen=True):
    license: LicensePayload
    signature: str
