"""The tamper matrix: each attack an attacker with database access can make on the trail, and the
line `audit verify` prints for it. Every attack first goes around the append-only triggers, as such
an attacker would. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, insert, select, text

from app.audit import checkpoints
from app.core.audit import acting_as
from app.extensions import db
from app.organisation.models import Site
from tests.audit import tampering

EVENTS = 8


@pytest.fixture()
def anchored(databases, tmp_path):
    """A trail of 8 events with checkpoints after event 4 and event 8, published to a file."""
    app = databases.new_migrated_app(
        AUDIT_SIGNING_KEY_FILE=str(tmp_path / "signing.pem"),
        AUDIT_CHECKPOINT_PUBLISH=str(tmp_path / "published.jsonl"),
    )
    runner = app.test_cli_runner()
    for n in range(EVENTS):
        with app.app_context(), acting_as("system:test"):
            db.session.add(Site(code=f"S{n}", name=f"Site {n}"))
            db.session.commit()
        if n + 1 in (4, EVENTS):
            result = runner.invoke(args=["audit", "checkpoint"])
            assert result.exit_code == 0, result.output
    return app


def engine(app):
    return app.extensions["loop_db"].engine


def verify(app, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["audit", "verify", *args])
    return result.exit_code, result.output


def test_an_untouched_trail_verifies_against_its_checkpoints(anchored):
    code, output = verify(anchored)
    assert code == 0, output
    assert output.splitlines()[0].startswith(f"OK {EVENTS} events, head ")
    assert "OK 2 checkpoints; the latest (checkpoint #2 of " in output
    assert f"covers {EVENTS} events" in output


def test_an_edited_field_is_detected(anchored):
    with engine(anchored).begin() as connection:
        tampering.run(connection, "UPDATE audit_event SET actor = 'mallory' WHERE id = 3")
    code, output = verify(anchored)
    assert code == 1
    assert "BROKEN at event 3: its content does not match its hash" in output


def test_a_deleted_middle_event_is_detected(anchored):
    with engine(anchored).begin() as connection:
        tampering.run(connection, "DELETE FROM audit_event WHERE id = 5")
    code, output = verify(anchored)
    assert code == 1
    assert "BROKEN at event 6: expected event 5 next" in output


def test_a_middle_event_deleted_and_the_rest_renumbered_and_rehashed_is_detected(anchored):
    with engine(anchored).begin() as connection:
        tail = tampering.events(connection, 6)
        tampering.replace_tail(connection, 5, tail)
    code, output = verify(anchored)
    assert code == 1
    assert output.splitlines()[0].startswith(f"OK {EVENTS - 1} events")  # the chain holds...
    assert "TRUNCATED: checkpoint #2 of " in output  # ...but the checkpoint saw event 8
    assert "event 8 is gone (the trail now ends at event 7" in output


@pytest.mark.parametrize("removed", [1, 3])
def test_the_last_events_deleted_is_truncation(anchored, removed):
    with engine(anchored).begin() as connection:
        tampering.run(connection, f"DELETE FROM audit_event WHERE id > {EVENTS - removed}")
    code, output = verify(anchored)
    assert code == 1
    assert output.splitlines()[0].startswith(f"OK {EVENTS - removed} events")
    assert (
        "TRUNCATED: checkpoint #2 of " in output
        and f"covered {EVENTS} events up to event {EVENTS}, but event {EVENTS} is gone "
        f"(the trail now ends at event {EVENTS - removed}; events from "
        f"{EVENTS - removed + 1} on are missing)."
        in output
    )


def test_the_whole_trail_deleted_is_truncation(anchored):
    with engine(anchored).begin() as connection:
        tampering.run(connection, "DELETE FROM audit_event")
    code, output = verify(anchored)
    assert code == 1
    assert output.count("TRUNCATED") == 2  # both checkpoints name it


def test_a_forged_event_appended_with_a_made_up_hash_is_detected(anchored):
    with engine(anchored).begin() as connection:
        last = tampering.events(connection, EVENTS)[0]
        forged = tampering.forged_event(last, id=EVENTS + 1, prev_hash="f" * 64, hash="e" * 64)
        connection.execute(insert(tampering.EVENTS), [forged])
    code, output = verify(anchored)
    assert code == 1
    assert f"BROKEN at event {EVENTS + 1}: its previous-hash link does not match" in output


def test_a_forged_event_inserted_in_the_middle_with_recomputed_hashes_is_a_rewrite(anchored):
    with engine(anchored).begin() as connection:
        tail = tampering.events(connection, 3)
        tampering.replace_tail(connection, 3, [tampering.forged_event(tail[0]), *tail])
    code, output = verify(anchored)
    assert code == 1
    assert output.splitlines()[0].startswith(f"OK {EVENTS + 1} events")
    assert "REWRITTEN: checkpoint #1 of " in output and "for event 4; the trail's event 4" in output
    assert "REWRITTEN: checkpoint #2 of " in output


def test_two_swapped_events_are_detected(anchored):
    with engine(anchored).begin() as connection:
        second, third = tampering.events(connection, 2)[:2]
        tampering.bypass_triggers(connection)
        for target, source in ((second, third), (third, second)):
            connection.execute(
                tampering.EVENTS.update()
                .where(tampering.EVENTS.c.id == target["id"])
                .values(
                    {key: value for key, value in source.items() if key not in ("id",)}
                    | {"hash": f"{target['id']}" * 64, "prev_hash": f"{target['id']}" * 64}
                )
            )
        for target, source in ((second, third), (third, second)):
            connection.execute(
                tampering.EVENTS.update()
                .where(tampering.EVENTS.c.id == target["id"])
                .values(hash=source["hash"], prev_hash=source["prev_hash"])
            )
    code, output = verify(anchored)
    assert code == 1
    assert "BROKEN at event 2: its previous-hash link does not match" in output


def test_a_rewrite_from_an_event_on_with_recomputed_hashes_is_detected(anchored):
    with engine(anchored).begin() as connection:
        tail = tampering.events(connection, 2)
        tail[0] = {**tail[0], "actor": "mallory@example.com"}
        tampering.replace_tail(connection, 2, tail)
    code, output = verify(anchored)
    assert code == 1
    assert output.splitlines()[0].startswith(f"OK {EVENTS} events")  # internally consistent
    assert "REWRITTEN: checkpoint #1 of " in output
    assert "REWRITTEN: checkpoint #2 of " in output


def _rewrite_and_replace_checkpoint(app, signing_key) -> None:
    """Rewrite the trail, then put a checkpoint of the new head in place of the latest one."""
    with engine(app).begin() as connection:
        tail = tampering.events(connection, 6)
        tail[0] = {**tail[0], "actor": "mallory@example.com"}
        tampering.replace_tail(connection, 6, tail)
        head = connection.execute(
            select(tampering.EVENTS.c.hash).where(tampering.EVENTS.c.id == EVENTS)
        ).scalar_one()
        old = (
            connection.execute(select(tampering.CHECKPOINTS).where(tampering.CHECKPOINTS.c.id == 2))
            .one()
            ._mapping
        )
        forged = checkpoints.sign(signing_key, old["created_at"], EVENTS, EVENTS, head)
        tampering.bypass_triggers(connection, "audit_checkpoint")
        connection.execute(delete(tampering.CHECKPOINTS).where(tampering.CHECKPOINTS.c.id == 2))
        connection.execute(
            insert(tampering.CHECKPOINTS),
            [{**old, "head_hash": head, "signature": forged.signature, "key_id": forged.key_id}],
        )


def test_a_replaced_checkpoint_signed_with_another_key_is_a_bad_signature(anchored):
    _rewrite_and_replace_checkpoint(anchored, Ed25519PrivateKey.generate())
    code, output = verify(anchored)
    assert code == 1
    assert "BAD SIGNATURE: checkpoint #2 of " in output
    assert "was not signed by the audit key" in output


def test_a_replaced_checkpoint_keeping_the_key_id_is_a_bad_signature(anchored):
    with engine(anchored).begin() as connection:
        tampering.bypass_triggers(connection, "audit_checkpoint")
        signature = base64.b64encode(b"\x00" * 64).decode()
        connection.execute(
            text(
                "UPDATE audit_checkpoint SET head_hash = :head, signature = :signature WHERE id = 1"
            ),
            {"head": "a" * 64, "signature": signature},
        )
    code, output = verify(anchored)
    assert code == 1
    assert "BAD SIGNATURE: checkpoint #1 of " in output


def test_deleting_the_stored_checkpoints_is_caught_by_the_published_copy(anchored, tmp_path):
    with engine(anchored).begin() as connection:
        tail = tampering.events(connection, 2)
        tail[0] = {**tail[0], "actor": "mallory@example.com"}
        tampering.replace_tail(connection, 2, tail)
        tampering.bypass_triggers(connection, "audit_checkpoint")
        connection.execute(delete(tampering.CHECKPOINTS))
    code, output = verify(anchored)
    assert code == 0  # the database alone no longer knows
    assert "No checkpoints" in output
    code, output = verify(anchored, "--checkpoints", str(tmp_path / "published.jsonl"))
    assert code == 1
    assert output.count("REWRITTEN") == 2
