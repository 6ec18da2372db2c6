"""Pinning the service's license-signing key.

The client trusts one Ed25519 public key for licenses:

1. configured: ``MARQUEE_LICENSE_PUBKEY`` (base64 raw key) when set; or
2. trust on first use: the key fetched from ``GET /v1/licenses/public-key`` on the first
   contact is stored in ``<data>/drm/service-key.json`` and every later license must
   verify with it; a service presenting another key is refused (``service_key_mismatch``).

Delete the file to re-pin (e.g. after resetting the service's database).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from drm.errors import license_error
from drm.license import public_key_from_b64

PUBKEY_ENV = "MARQUEE_LICENSE_PUBKEY"


class KeyPin:
    def __init__(self, path: Path) -> None:
        self.path = path

    def configured(self) -> str | None:
        value = os.environ.get(PUBKEY_ENV, "").strip()
        return value or None

    def pinned(self) -> str | None:
        configured = self.configured()
        if configured:
            return configured
        try:
            return str(json.loads(self.path.read_text(encoding="utf-8"))["public_key"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def key(self) -> Ed25519PublicKey:
        pinned = self.pinned()
        if pinned is None:
            raise license_error("service_key_unknown", "no pinned service key",
                                "Marquee has not contacted the license service yet; go online once.")
        return public_key_from_b64(pinned)

    def accept(self, presented: str, now: float) -> Ed25519PublicKey:
        """Pin ``presented`` on first use; afterwards it must match the pin."""
        pinned = self.pinned()
        if pinned is None:
            key = public_key_from_b64(presented)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"public_key": presented, "pinned_at": now, "source": "tofu"}), encoding="utf-8")
            tmp.replace(self.path)
            return key
        if pinned != presented:
            raise license_error("service_key_mismatch", "the service presented a license key other than the pinned one",
                                "The license service's identity changed; refusing its licenses. "
                                f"If you reset the service, delete {self.path}.")
        return public_key_from_b64(pinned)
