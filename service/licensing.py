"""Offline licenses: policy decisions and the license document (pure: no I/O, no clock).

A license is bound to an account, a device (its registered X25519 public key) and a
content id (the episode id, or the film's title id). It carries the content key wrapped
for the device and is signed with the service's Ed25519 key (see ``drm/license.py``
for the client side of the same format). Policy:

* ``license_duration_s``: the license is valid this long from issue (renewable if ``can_renew``);
* ``playback_duration_s``: once playback starts, the client allows this long (client-enforced);
* ``max_devices``: devices of one account holding active licenses at once;
* ``max_downloads_per_title``: licenses one account may obtain for one content id within
  ``download_window_s`` (released ones count: it is a download count);
* ``not_downloadable``: title ids that may stream but not be downloaded.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Iterable, Mapping

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from contract import decode, to_builtins
from contract.licenses import LicensePayload, WrappedKey

WRAP_ALG = "X25519-HKDF-SHA256-A256GCM"
MAX_DURATION_S = 100 * 365 * 86400.0


@dataclass(frozen=True)
class LicensePolicy:
    license_duration_s: float = 30 * 86400.0
    playback_duration_s: float = 48 * 3600.0
    can_renew: bool = True
    max_devices: int = 3
    max_downloads_per_title: int = 5
    download_window_s: float = 365 * 86400.0
    not_downloadable: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["not_downloadable"] = list(self.not_downloadable)
        return d

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> "LicensePolicy":
        """Build from (partial) JSON; raises ValueError on an unknown field or a bad value."""
        names = {f.name for f in fields(LicensePolicy)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown policy field(s): {', '.join(sorted(unknown))}")
        base = LicensePolicy().to_json()
        base.update(d)
        titles = base["not_downloadable"]
        if not isinstance(titles, list) or len(titles) > 10_000 or not all(isinstance(t, str) and 0 < len(t) <= 64
                                                                           for t in titles):
            raise ValueError("'not_downloadable' must be a list of title ids (strings)")
        if not isinstance(base["can_renew"], bool):
            raise ValueError("'can_renew' must be true or false")
        policy = LicensePolicy(
            license_duration_s=_policy_number(base, "license_duration_s", 1.0, MAX_DURATION_S),
            playback_duration_s=_policy_number(base, "playback_duration_s", 1.0, MAX_DURATION_S),
            can_renew=base["can_renew"], max_devices=int(_policy_number(base, "max_devices", 1, 1_000_000, True)),
            max_downloads_per_title=int(_policy_number(base, "max_downloads_per_title", 1, 1_000_000, True)),
            download_window_s=_policy_number(base, "download_window_s", 0.0, MAX_DURATION_S),
            not_downloadable=tuple(titles))
        return policy


def _policy_number(doc: Mapping[str, Any], key: str, lo: float, hi: float, whole: bool = False) -> float:
    value = doc[key]
    if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)) \
            or not math.isfinite(value) or not lo <= value <= hi:
        kind = "a whole number" if whole else "a number"
        raise ValueError(f"'{key}' must be {kind} between {lo:g} and {hi:g}")
    return float(value)


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str


@dataclass(frozen=True)
class LicenseRow:
    """What the store keeps of an issued license."""

    id: str
    account_id: str
    device_id: str
    title_id: str
    episode_id: str | None
    content_id: str
    media_id: str
    issued_at: float
    expires_at: float
    state: str  # active | released | revoked
    renewals: int = 0
    device_key: str = ""  # fingerprint of the device key it was issued for ('' before keys were bound)


def check_issue(policy: LicensePolicy, *, title_id: str, content_id: str, device_id: str, device_registered: bool,
                account_lapsed: bool, active_devices: Iterable[str], downloads_of_content: int) -> Refusal | None:
    if not device_registered:
        return Refusal(403, "device_unknown", "register this device's public key first (PUT /v1/licenses/device)")
    if account_lapsed:
        return Refusal(403, "account_lapsed", "the account's subscription has lapsed; offline licenses are withdrawn")
    if title_id in policy.not_downloadable or content_id in policy.not_downloadable:
        return Refusal(403, "not_downloadable", f"{content_id} may be streamed but not downloaded")
    others = set(active_devices) - {device_id}
    if device_id not in set(active_devices) and len(others) >= policy.max_devices:
        return Refusal(409, "device_limit_reached",
                       f"{len(others)} devices already hold downloads (limit {policy.max_devices}); "
                       "delete downloads on another device first")
    if downloads_of_content >= policy.max_downloads_per_title:
        return Refusal(409, "download_limit_reached",
                       f"{content_id} was downloaded {downloads_of_content} times (limit {policy.max_downloads_per_title})")
    return None


def check_renew(policy: LicensePolicy, row: LicenseRow | None, *, account_id: str, device_id: str,
                account_lapsed: bool, device_key: str = "") -> Refusal | None:
    if row is None or row.account_id != account_id or row.device_id != device_id:
        return Refusal(404, "license_unknown", "no such license for this device")
    if row.state == "revoked" or account_lapsed:
        return Refusal(403, "license_revoked", "this license was revoked")
    if row.state == "released":
        return Refusal(409, "license_released", "this license was released (the download was deleted)")
    if not policy.can_renew:
        return Refusal(403, "renew_not_allowed", "licenses for this service cannot be renewed")
    if row.device_key and row.device_key != device_key:
        return Refusal(403, "device_key_changed", "this download was licensed to another key registered under this "
                       "device id; a device is its key: download the title again on this device")
    return None


def key_fingerprint(public_key_b64: str) -> str:
    """Short stable name of a device's public key (what a license is bound to)."""
    return hashlib.sha256(public_key_b64.encode("ascii")).hexdigest()[:16]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def canonical(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def wrap_content_key(content_key: bytes, device_public: bytes, license_id: str, content_id: str,
                     ephemeral: X25519PrivateKey | None = None) -> dict[str, str]:
    eph = ephemeral or X25519PrivateKey.generate()
    epk = eph.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    shared = eph.exchange(X25519PublicKey.from_public_bytes(device_public))
    kek = HKDF(algorithm=hashes.SHA256(), length=32, salt=epk + device_public,
               info=f"marquee-license-v1|{license_id}|{content_id}".encode()).derive(shared)
    nonce = os.urandom(12)
    ct = AESGCM(kek).encrypt(nonce, content_key, f"{license_id}|{content_id}".encode())
    wrapped: dict[str, Any] = to_builtins(WrappedKey(WRAP_ALG, _b64(epk), _b64(nonce), _b64(ct)))
    return wrapped


def license_document(row: LicenseRow, policy: LicensePolicy, *, device_public: bytes, content_key: bytes,
                     signing_key: Ed25519PrivateKey, key_id: str, now: float) -> dict[str, Any]:
    wrapped = decode(wrap_content_key(content_key, device_public, row.id, row.content_id), WrappedKey)
    payload: dict[str, Any] = to_builtins(LicensePayload(
        license_id=row.id, account_id=row.account_id, device_id=row.device_id,
        title_id=row.title_id, episode_id=row.episode_id, content_id=row.content_id,
        media_id=row.media_id, issued_at=row.issued_at, expires_at=row.expires_at,
        playback_duration_s=policy.playback_duration_s, can_renew=policy.can_renew,
        renewals=row.renewals, server_time=now, key_id=key_id,
        device_public_key=_b64(device_public), wrapped_key=wrapped,
    ))
    return {"license": payload, "signature": _b64(signing_key.sign(canonical(payload)))}


def valid_x25519(raw: bytes) -> bool:
    if len(raw) != 32:
        return False
    try:
        X25519PublicKey.from_public_bytes(raw)
    except ValueError:
        return False
    return True


def signing_key_from_hex(hex_key: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(hex_key))


def public_key_b64(key: Ed25519PrivateKey) -> str:
    return _b64(key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def new_signing_key_hex() -> str:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()).hex()
