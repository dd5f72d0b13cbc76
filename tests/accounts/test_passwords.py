from __future__ import annotations

import pytest

from app.accounts.services import create_user, password_hasher, set_password
from app.core.errors import ServiceError


@pytest.mark.parametrize("length", [11, 129])
def test_passwords_outside_12_to_128_characters_are_refused(session, length):
    with pytest.raises(ServiceError) as refused:
        create_user("pw@example.com", "Pat Word", "contributor", "x" * length)
    assert refused.value.field == "password"


@pytest.mark.parametrize("length", [12, 128])
def test_passwords_of_12_and_128_characters_are_accepted(session, length):
    user = create_user(f"pw{length}@example.com", "Pat Word", "contributor", "x" * length)
    assert user.id is not None


def test_hashes_are_argon2id_with_at_least_19_mib_and_two_passes(session):
    user = create_user("hash@example.com", "Hash Check", "auditor", "a long enough password")
    assert user.password_hash.startswith("$argon2id$")
    params = dict(item.split("=") for item in user.password_hash.split("$")[3].split(","))
    assert int(params["m"]) >= 19 * 1024
    assert int(params["t"]) >= 2
    assert int(params["p"]) >= 1
    assert password_hasher.verify(user.password_hash, "a long enough password")


def test_changing_a_password_ends_older_sessions(session):
    user = create_user("epoch@example.com", "Epoch Check", "auditor", "a long enough password")
    old_session_id = user.get_id()
    set_password(user, "another long password")
    assert user.get_id() != old_session_id


def test_a_taken_e_mail_is_refused(session):
    create_user("twice@example.com", "First", "auditor", "a long enough password")
    with pytest.raises(ServiceError, match="already exists"):
        create_user("TWICE@example.com", "Second", "auditor", "a long enough password")
