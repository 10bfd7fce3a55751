"""squawk over the migrations: zero findings for pgrecall's own, and the runner's groups
(in a transaction or not, rollback files, per-file exclusions) do what the config says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pgrecall.cli import main
from pgrecall.errors import ConfigurationError
from pgrecall.migrate import LintProblem, lint
from pgrecall.migrate import squawk as squawk_module
from pgrecall.migrate.squawk import SquawkConfig, find_config, squawk
from pgrecall.query.resources import migrations_dir

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".squawk.toml"


def rules(problems: list[LintProblem]) -> list[tuple[str, int, str]]:
    return [
        (p.path.name, p.line, p.message.split(":")[0].removeprefix("squawk "))
        for p in problems
    ]


def test_project_migrations_have_no_squawk_findings() -> None:
    problems = squawk(config=CONFIG)
    assert problems == [], "\n".join(map(str, problems))
    assert find_config([migrations_dir()]) == CONFIG


def test_squawk_is_pinned_in_the_dev_extra() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert '"squawk-cli==' in text
    out = subprocess.run(
        [squawk_module._binary(), "--version"], capture_output=True, text=True, check=True
    )
    pinned = text.split('"squawk-cli==', 1)[1].split('"', 1)[0]
    assert out.stdout.split() == ["squawk", pinned]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    d = tmp_path / "migrations"
    d.mkdir()
    (d / "0001_items.sql").write_text(
        "-- 0001 items\n\nCREATE TABLE items (id bigint PRIMARY KEY, n integer);\n"
    )
    (d / "0001_items.rollback.sql").write_text("DROP TABLE items;\n")
    (d / "0002_items_idx.sql").write_text(
        "-- 0002 items index\n-- transactional: false\n\n"
        "CREATE INDEX CONCURRENTLY items_n_idx ON items (n);\n"
    )
    (d / "0002_items_idx.rollback.sql").write_text(
        "DROP INDEX CONCURRENTLY IF EXISTS items_n_idx;\n"
    )
    assert lint([d]) == []  # pgrecall's own rules hold; squawk's are another matter
    return d


def test_findings_name_file_line_and_rule(project: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    found = rules(squawk([project], config=empty))
    # transactional: no prefer-robust-stmts for CREATE TABLE (it runs in a transaction)
    assert ("0001_items.sql", 3, "prefer-bigint-over-int") in found
    assert not any(r == "prefer-robust-stmts" and n == "0001_items.sql" for n, _, r in found)
    # non-transactional: a CONCURRENTLY build without IF NOT EXISTS cannot be rerun
    assert ("0002_items_idx.sql", 4, "prefer-robust-stmts") in found
    # without a config, a rollback file's DROP TABLE is reported
    assert ("0001_items.rollback.sql", 1, "ban-drop-table") in found


def test_config_exclusions_global_rollback_and_per_file(project: Path, tmp_path: Path) -> None:
    config = tmp_path / "migrations" / ".squawk.toml"
    config.write_text(
        'excluded_rules = ["require-lock-timeout", "require-statement-timeout"]\n'
        "[pgrecall]\n"
        'rollback_excluded_rules = ["ban-drop-table"]\n'
        "[pgrecall.file_excluded_rules]\n"
        '"0001_items.sql" = ["prefer-bigint-over-int"]\n'
    )
    assert find_config([project]) == config
    found = rules(squawk([project]))
    assert found == [("0002_items_idx.sql", 4, "prefer-robust-stmts")]
    cfg = SquawkConfig.load(config)
    assert cfg.excludes("0001_items.rollback.sql") == (
        "ban-drop-table",
        "require-lock-timeout",
        "require-statement-timeout",
    )
    # the per-file exclusion is for that file only
    (project / "0003_more.sql").write_text("-- 0003\n\nALTER TABLE items ADD COLUMN m integer;\n")
    (project / "0003_more.rollback.sql").write_text("ALTER TABLE items DROP COLUMN m;\n")
    found = rules(squawk([project]))
    assert ("0003_more.sql", 3, "prefer-bigint-over-int") in found
    assert ("0003_more.rollback.sql", 1, "ban-drop-column") in found


def test_a_bad_config_is_a_configuration_error(project: Path) -> None:
    bad = project / "bad.toml"
    bad.write_text('excluded_rules = "require-lock-timeout"\n')
    with pytest.raises(ConfigurationError, match="must be a list"):
        squawk([project], config=bad)
    bad.write_text("excluded_rules = [\n")
    with pytest.raises(ConfigurationError, match="cannot read"):
        squawk([project], config=bad)


def test_missing_squawk_is_a_configuration_error(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "nobin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "nobin"))
    with pytest.raises(ConfigurationError, match="pip install squawk-cli"):
        squawk([project])


def test_cli_lint_squawk(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--source", str(project)]) == 0
    capsys.readouterr()
    assert main(["lint", "--squawk", "--source", str(project)]) == 1
    out = capsys.readouterr().out
    assert f"{project / '0001_items.sql'}:3: squawk prefer-bigint-over-int:" in out
    assert main(["lint", "--squawk", "--squawk-config", str(CONFIG)]) == 0
