"""The HTTP service's commands: ``pgrecall serve`` and ``pgrecall api-key create | list |
revoke`` (extra ``pgrecall[api]``; imported only when one of them runs)."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["add_commands"]

T = TypeVar("T")

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def expiry(text: str) -> datetime:
    """``--expires``: a duration from now (``90d``, ``12h``, ``30m``) or an ISO time."""
    m = _DURATION.match(text.strip())
    if m:
        return datetime.now(UTC) + timedelta(**{_UNIT[m[2]]: int(m[1])})
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: use a duration (90d, 12h, 30m) or an ISO time"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def cmd_serve(args: argparse.Namespace) -> int:
    from ..api.server import serve
    from .common import resolve_url

    serve(
        resolve_url(args),
        host=args.host,
        port=args.port,
        workers=args.workers,
        rate=args.rate_limit,
        burst=args.burst,
    )
    return 0


def _keys(args: argparse.Namespace, action: Callable[[Session], T]) -> T:
    from ..store import connect
    from .common import resolve_url

    store = connect(resolve_url(args), pool_min_size=0, pool_max_size=1)
    with store, store.session(args.tenant) as s:
        return action(s)


def cmd_key_create(args: argparse.Namespace) -> int:
    from ..api.keys import create_key

    made = _keys(args, lambda s: create_key(s, name=args.name, expires_at=args.expires))
    info = made.info
    until = info.expires_at.isoformat() if info.expires_at else "never"
    print(f"API key {info.prefix}… ({info.id}) for tenant {info.tenant_id}, expires: {until}")
    print("It is shown only now (only its SHA-256 is stored):")
    print(made.key)
    return 0


def cmd_key_list(args: argparse.Namespace) -> int:
    from ..api.keys import list_keys

    for key in _keys(args, lambda s: list_keys(s, include_revoked=args.all)):
        print(key.model_dump_json())
    return 0


def cmd_key_revoke(args: argparse.Namespace) -> int:
    from ..api.keys import revoke_key

    key = _keys(args, lambda s: revoke_key(s, args.key))
    print(json.dumps({"revoked": key.prefix, "id": str(key.id), "at": str(key.revoked_at)}))
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the HTTP service (uvicorn; needs pgrecall[api])")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument(
        "--rate-limit", type=float, metavar="RATE", help="requests/s per key (default: no limit)"
    )
    p.add_argument("--burst", type=int, help="bucket size of the rate limit (default 10)")
    p.set_defaults(fn=cmd_serve)

    keys = sub.add_parser("api-key", help="create, list and revoke the HTTP service's API keys")
    ks = keys.add_subparsers(dest="key_command", required=True)
    c = ks.add_parser("create", help="a new key for a tenant; printed once, on the last line")
    c.add_argument("--tenant", required=True)
    c.add_argument("--name", default="", help="what the key is for")
    c.add_argument("--expires", type=expiry, help="90d, 12h, 30m or an ISO time (default never)")
    c.set_defaults(fn=cmd_key_create)
    ls = ks.add_parser("list", help="a tenant's keys (prefix, name, dates), one JSON per line")
    ls.add_argument("--tenant", required=True)
    ls.add_argument("--all", action="store_true", help="include revoked keys")
    ls.set_defaults(fn=cmd_key_list)
    r = ks.add_parser("revoke", help="revoke a key by id or prefix")
    r.add_argument("--tenant", required=True)
    r.add_argument("key", help="the key's id or prefix (as listed)")
    r.set_defaults(fn=cmd_key_revoke)
