"""Step two of the license protocol (see ``Downloads.add``): reconciling the journal with the
service's list of this device's licenses, so a crash between a license and its journal row
leaks nothing (``downloads/README.md``, "Licenses: two steps")."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from downloads.online import OnlineLink
from marquee.errors import NetworkError

if TYPE_CHECKING:
    from downloads.api import Downloads

log = logging.getLogger("marquee.downloads")


def reconcile(d: "Downloads", link: OnlineLink, *, adopt: str | None = None) -> dict[str, str]:
    """At start: send the releases made offline, then compare the service's active licenses
    of this device with the journal. Those the journal does not know (a crash between the
    license and the journal row: its intent says so) are released, except the newest one
    for ``adopt`` (the title being added), returned (content id -> license id) so that
    ``add`` takes it back instead of counting a new download. Call under ``license_lock``
    (an ``add`` in flight holds a license the journal does not know yet)."""
    d.flush_releases()
    try:
        listed = link.list_licenses()
    except NetworkError as exc:
        log.info("licenses not reconciled (%s)", exc.message)
        return {}
    known = d.journal.license_ids()
    mine = [x for x in listed if x.get("device_id") == d.drm.device_id and x.get("state") == "active"
            and x.get("license_id") not in known]
    keep: dict[str, str] = {}
    for item in sorted(mine, key=lambda x: -float(x.get("issued_at", 0))):
        lid, content = str(item["license_id"]), str(item.get("content_id", ""))
        if content == adopt and content not in keep:
            keep[content] = lid
            continue
        log.info("releasing orphan license %s (%s)", lid, content)
        d._release_or_queue(lid)
    for content in d.journal.intents():  # every trace is accounted for now
        d.journal.drop_intent(content)
    return keep
