"""``marquee serve`` (the reference service and OCAs) and ``marquee catalog``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="run the reference service and its OCA edge servers",
                       description="Run the reference service and its OCAs on loopback. Prints the base URL as "
                       "the first line of stdout; GET /health answers 200 when everything listens.")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="service port; 0 picks a free one (default 8765)")
    p.add_argument("--ocas", type=int, default=3, help="number of OCA edge servers, 0..10 (default 3)")
    p.add_argument("--content", type=Path, default=None, help="built content folder (default: the cache's)")
    p.add_argument("--catalog", type=Path, default=None, help="catalogue JSON (default: assets/catalog.json)")
    p.add_argument("--db", type=Path, default=None, help="SQLite database (default: <service dir>/service.sqlite3)")
    p.add_argument("--admin", action=argparse.BooleanOptionalAction, default=None,
                   help="enable the OCA admin/fault API (default: on when bound to loopback)")
    p.add_argument("--admin-secret-file", type=Path, default=None,
                   help="the admin API's secret (created 0600 if missing; default: admin.secret beside the database). "
                   "Admin requests send it in the header X-Marquee-Admin-Secret")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="a host name requests may address besides loopback and --host (repeatable); "
                   "others are refused (DNS rebinding)")
    p.add_argument("--public-host", default="", metavar="NAME",
                   help="host name put in the URLs the service hands out (default: the bound address)")
    p.add_argument("--tls", action="store_true",
                   help="OCAs serve https:// with this installation's self-signed certificate (oca-cert.pem beside "
                   "the database; the app's clients pin it)")
    p.add_argument("--token-ttl", type=int, default=900, help="access token lifetime in seconds (default 900)")
    p.add_argument("--playback-ttl", type=int, default=6 * 3600,
                   help="lifetime of the signed OCA URLs in seconds (default 21600)")
    p.add_argument("--no-demo", action="store_true", help="do not create the demo account")
    p.add_argument("--watch-stdin", action="store_true", help=argparse.SUPPRESS)  # exit on stdin EOF (embedded)
    p.set_defaults(func=run_serve)

    c = sub.add_parser("catalog", help="print the catalogue (id, title, kind, episode ids)")
    c.add_argument("--json", action="store_true", help="print JSON instead of a table")
    c.add_argument("--service", dest="catalog_service", metavar="URL", default=argparse.SUPPRESS,
                   help="read it from a running service instead of the local file")
    c.add_argument("--catalog", type=Path, default=None, help="catalogue JSON (default: assets/catalog.json)")
    c.set_defaults(func=run_catalog)


def run_serve(args: argparse.Namespace) -> int:
    from marquee import paths
    from marquee.errors import ConfigError
    from service import logs
    from service.catalog import default_catalog_path
    from service.config import LOOPBACK, ServiceConfig
    from service.server import serve_forever

    logs.configure(args.verbose)
    content = (args.content or paths.content_dir()).resolve()
    if not (content / "build.json").is_file():
        print(f"marquee serve: no built content in {content}.\n"
              "Run `marquee content build` (or `marquee content build --quick` for a small test build) first,\n"
              "or point --content at a built folder.", file=sys.stderr)
        return 2
    if not 0 <= args.ocas <= 10:
        print("marquee serve: --ocas must be between 0 and 10", file=sys.stderr)
        return 2
    admin = args.admin if args.admin is not None else args.host in LOOPBACK
    config = ServiceConfig(content_dir=content, catalog_path=(args.catalog or default_catalog_path()),
                           db_path=args.db or paths.service_dir() / "service.sqlite3", host=args.host,
                           port=args.port, ocas=args.ocas, admin=admin, access_token_ttl_s=args.token_ttl,
                           playback_token_ttl_s=args.playback_ttl, seed_demo=not args.no_demo,
                           admin_secret_path=args.admin_secret_file, allowed_hosts=tuple(args.allow_host),
                           public_host=args.public_host, oca_tls=args.tls)

    def ready(url: str) -> None:
        print(url, flush=True)

    try:
        return serve_forever(config, watch_stdin=args.watch_stdin, on_ready=ready)
    except ConfigError as exc:
        print(f"marquee serve: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"marquee serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2


def catalog_rows(titles: list[dict[str, Any]]) -> list[str]:
    width = max([len(t["title"]) for t in titles] + [5])
    lines = [f"{'ID':<8} {'KIND':<7} {'TITLE':<{width}}  EPISODES"]
    for t in titles:
        eps = " ".join(t.get("episodes", []))
        lines.append(f"{t['id']:<8} {t['kind']:<7} {t['title']:<{width}}  {eps}".rstrip())
    return lines


def run_catalog(args: argparse.Namespace) -> int:
    import json

    from marquee.errors import MarqueeError

    service_url = getattr(args, "catalog_service", None) or getattr(args, "service", None)
    try:
        if service_url:
            from marquee.api import ServiceClient

            with ServiceClient(service_url) as client:
                titles = client.catalog()
        else:
            from service.api.catalog import catalog_json
            from service.catalog import default_catalog_path, load_catalog

            titles = [catalog_json(t) for t in load_catalog(args.catalog or default_catalog_path()).titles]
    except MarqueeError as exc:
        print(f"marquee catalog: {exc.user_message}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"titles": titles}, indent=2))
    else:
        print("\n".join(catalog_rows(titles)))
    return 0
