"""Accounts and review state in storage: argon2 passwords, hashed API tokens, `gongkai user create`,
and the optimistic lock on SQLite and on PostgreSQL (two writers really at the same time there)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from extractor.cli import app
from extractor.review import ReviewService, VersionConflict, token_hash
from extractor.settings import SAMPLE_REPORT
from extractor.storage import ApiTokenRow, UserRow, list_corrections

# db_url and pg_admin: test_storage's SQLite-or-PostgreSQL database, under tests/api_support's `service` fixture
from tests.api_support import CELL, PASSWORD
from tests.test_storage import db_url, pg_admin  # noqa: F401


def test_passwords_are_argon2_hashes_and_tokens_only_their_hash(service: ReviewService) -> None:
    token = service.create_user("ann", "reviewer", PASSWORD)
    with service.session() as session:
        user = session.scalars(sa.select(UserRow)).one()
        stored = session.scalars(sa.select(ApiTokenRow.token_hash)).one()
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        assert stored == token_hash(token) and token not in stored
    assert service.authenticate_password("ann", PASSWORD) is not None
    assert service.authenticate_password("ann", "wrong password") is None
    assert service.authenticate_password("nobody", PASSWORD) is None
    found = service.authenticate_token(token)
    assert found is not None and (found.name, found.role) == ("ann", "reviewer")
    assert service.authenticate_token(token + "x") is None and service.authenticate_token("") is None


def test_user_names_are_unique_and_inputs_checked(service: ReviewService) -> None:
    service.create_user("ann", "admin", PASSWORD)
    with pytest.raises(ValueError, match="already exists"):
        service.create_user("ann", "reviewer", PASSWORD)
    with pytest.raises(ValueError, match="role"):
        service.create_user("bob", "owner", PASSWORD)
    with pytest.raises(ValueError, match="8 characters"):
        service.create_user("bob", "reviewer", "short")


def test_user_create_command_prints_the_token_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = CliRunner().invoke(app, ["user", "create", "ann", "--role", "admin", "--password", PASSWORD, "--db", url])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    with ReviewService(url) as service:
        user = service.authenticate_token(token)
        assert user is not None and user.role == "admin"
    again = CliRunner().invoke(app, ["user", "create", "ann", "--password", PASSWORD, "--db", url])
    assert again.exit_code == 2 and "already exists" in again.output
    prompted = CliRunner().invoke(app, ["user", "create", "bob", "--db", url], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output


def _document(service: ReviewService) -> int:
    [stored] = service.upload([("sample.html", SAMPLE_REPORT.read_bytes())])
    assert stored.id is not None
    service.extract_document(stored.id)
    return stored.id


def test_review_version_locks_optimistically_and_trail_stays_append_only(service: ReviewService) -> None:
    document_id = _document(service)
    first = service.review(document_id, CELL, 0, "ann", value=820)
    assert first.version == 1
    with pytest.raises(VersionConflict) as conflict:
        service.review(document_id, CELL, 0, "bob", value=819)
    assert (conflict.value.value, conflict.value.version) == (820, 1)
    accepted = service.review(document_id, CELL, 1, "bob", accept=True)
    assert accepted.version == 2 and accepted.recheck.value == 820
    with service.session() as session:
        run_id = session.scalar(sa.text("SELECT max(id) FROM runs"))
        trail = [(c.action, c.old, c.new, c.reviewer) for c in list_corrections(session, int(run_id))]
    assert trail == [("correct", 821, 820, "ann"), ("accept", 820, 820, "bob")]
    assert service.flat(document_id)["version"] == 2


def test_two_reviewers_at_once_one_wins(service: ReviewService) -> None:
    """Both send version 0 at the same instant: exactly one correction lands, the other conflicts."""
    document_id = _document(service)
    barrier = threading.Barrier(8)
    outcomes: list[object] = []

    def review(value: int) -> None:
        barrier.wait()
        try:
            outcomes.append(service.review(document_id, CELL, 0, f"r{value}", value=value))
        except VersionConflict as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=review, args=(800 + i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wins = [o for o in outcomes if not isinstance(o, VersionConflict)]
    conflicts = [o for o in outcomes if isinstance(o, VersionConflict)]
    assert len(wins) == 1 and len(conflicts) == 7
    with service.session() as session:
        run_id = session.scalar(sa.text("SELECT max(id) FROM runs"))
        assert len(list_corrections(session, int(run_id))) == 1
    assert {c.version for c in conflicts} == {1}
