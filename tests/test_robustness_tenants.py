"""Issue 10.11: no cross-tenant side channel in event partitions, bounded partition
creation for the application role, and imports that stay inside the export directory."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import pgrecall
from pgrecall import ValidationError
from pgrecall.ops import export_tenant, import_tenant


def test_partitions_show_only_the_tenants_own_counts(app_store: pgrecall.Store) -> None:
    with app_store.session(tenant="other") as s:
        for _ in range(5):
            s.events.log("secret")
    with app_store.session(tenant="acme") as s:
        s.events.log("mine")
    with app_store.session(tenant="acme") as s:
        counts = {p.name: p.row_count for p in s.events.partitions()}
    today = f"events_p{datetime.now(UTC):%Y%m%d}"
    assert counts[today] == 1
    assert sum(counts.values()) == 1
    with app_store.session(tenant="nobody") as s:
        assert sum(p.row_count for p in s.events.partitions()) == 0


def test_app_role_creates_partitions_only_near_today(
    app_store: pgrecall.Store, store: pgrecall.Store
) -> None:
    today = datetime.now(UTC).date()
    with app_store.session(tenant="acme") as s:
        for start, days in ((today - timedelta(days=3), 1), (today + timedelta(days=401), 1),
                            (today.replace(year=today.year - 5), 30), (today, 402)):  # fmt: skip
            with pytest.raises(ValidationError, match="only"), s.savepoint():
                s.events.create_partitions(from_day=start, days=days)
        made = s.events.create_partitions(from_day=today + timedelta(days=390), days=11)
        assert len(made) == 11
    with store.session(tenant="acme") as s:  # the owner: any days (backfills)
        assert s.events.create_partitions(from_day=today - timedelta(days=40), days=2)


@pytest.mark.parametrize("bad", ["../outside.jsonl", "/etc/hostname", "sub/../../x.jsonl"])
def test_import_refuses_paths_outside_the_export(
    store: pgrecall.Store, tmp_path: Path, bad: str
) -> None:
    with store.session(tenant="acme") as s:
        s.users.upsert("u1")
    export_tenant(store, "acme", tmp_path / "export")
    (tmp_path / "outside.jsonl").write_text(json.dumps({"user_id": "evil"}) + "\n")
    manifest = tmp_path / "export" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["tables"][0]["file"] = bad
    manifest.write_text(json.dumps(data))
    with pytest.raises(ValidationError, match="outside the export"):
        import_tenant(store, tmp_path / "export", tenant="copy")
    with store.session(tenant="copy") as s:
        assert s.users.list() == []


def test_import_refuses_a_symlink_out_of_the_export(store: pgrecall.Store, tmp_path: Path) -> None:
    with store.session(tenant="acme") as s:
        s.users.upsert("u1")
    export_tenant(store, "acme", tmp_path / "export")
    data = json.loads((tmp_path / "export" / "manifest.json").read_text())
    first = tmp_path / "export" / data["tables"][0]["file"]
    (tmp_path / "elsewhere.jsonl").write_text(first.read_text())
    first.unlink()
    first.symlink_to(tmp_path / "elsewhere.jsonl")
    with pytest.raises(ValidationError, match="outside the export"):
        import_tenant(store, tmp_path / "export", tenant="copy")
