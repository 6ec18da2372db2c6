"""The device-key passphrase as the desktop app supplies it (no Qt here).

Without an OS keystore, ``drm.keystore`` wraps the device key with a passphrase it asks
from a ``PassphraseSource`` on the worker thread that opens the downloads. The app cannot
prompt there (a dialog belongs to the GUI thread, and a terminal prompt would be invisible),
so ``SessionPassphrase`` answers with ``MARQUEE_KEY_PASSPHRASE`` when it is set, else with
the value typed in this session, else raises ``PassphraseNeeded``: the UI asks, stores the
answer with ``set`` and runs the failed call again. The value lives in this object only,
for the life of the app; nothing writes it anywhere.

``version`` changes whenever the value does, so a failure that was caused by an older value
(two calls racing on a wrong passphrase) is retried instead of asked again.
"""

from __future__ import annotations

import os
import threading
from typing import Mapping

from drm.keystore import PASSPHRASE_ENV
from marquee.errors import LicenseError, MarqueeError

WRONG_PASSPHRASE = "That passphrase is not the one that protects your downloads. Try again."
LOCKED_MESSAGE = ("Downloads are locked until you type the passphrase that protects them on this computer. "
                  "Your downloads are kept.")
NOT_SET_UP_MESSAGE = ("Downloads need a passphrase on this computer, which has no system keychain. None was set, "
                      "so nothing was downloaded: choose Download again to set one.")
ENV_WRONG_MESSAGE = (f"{PASSPHRASE_ENV} is set but does not open the device key of your downloads: "
                     "correct it (or unset it to be asked) and restart Marquee.")


class PassphraseNeeded(LicenseError):
    """The device key needs a passphrase that this session does not have (or had wrong)."""

    def __init__(self, *, creating: bool, wrong: bool, version: int) -> None:
        what = "a new passphrase for the device key" if creating else "the passphrase of the device key"
        super().__init__(f"{what} is needed" + (" (the last one was wrong)" if wrong else ""),
                         user_message=WRONG_PASSPHRASE if wrong else "Downloads need your passphrase.",
                         code="passphrase_required")
        self.creating = creating
        self.wrong = wrong
        self.version = version


class SessionPassphrase:
    """A ``drm.keystore.PassphraseSource``: ``(creating) -> passphrase``, callable from any thread."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ
        self._lock = threading.Lock()
        self._value: str | None = None
        self._version = 0

    @property
    def from_environment(self) -> bool:
        return bool(self._environ.get(PASSPHRASE_ENV))

    @property
    def version(self) -> int:
        with self._lock:
            return self._version

    def __call__(self, creating: bool) -> str:
        env = self._environ.get(PASSPHRASE_ENV)
        if env:
            return env
        with self._lock:
            if self._value is not None:
                return self._value
            raise PassphraseNeeded(creating=creating, wrong=False, version=self._version)

    def set(self, value: str) -> None:
        if not value:
            raise ValueError("an empty passphrase")
        with self._lock:
            self._value = value
            self._version += 1

    def forget(self) -> None:
        with self._lock:
            self._value = None
            self._version += 1

    def translate(self, err: MarqueeError, version: int) -> MarqueeError:
        """The error to report for a failed opening that used the value of ``version``: a wrong
        typed passphrase becomes ``PassphraseNeeded`` (ask again); a wrong environment value
        gets a message that says where it came from."""
        if err.code != "wrong_passphrase":
            return err
        if self.from_environment:
            return LicenseError(err.message, user_message=ENV_WRONG_MESSAGE, code=err.code)
        return PassphraseNeeded(creating=False, wrong=True, version=version)


def locked_message(wanted: str) -> str:
    """Why downloads are closed after Cancel: ``wanted`` is "unlock" (a key exists) or "create"."""
    return NOT_SET_UP_MESSAGE if wanted == "create" else LOCKED_MESSAGE


def locked_error(wanted: str) -> MarqueeError:
    """What an action that needed the device key reports after the passphrase was cancelled."""
    return LicenseError("the device-key passphrase was cancelled", user_message=locked_message(wanted),
                        code="passphrase_required")
