"""Accounts in the library and on the command line: users, roles, passwords, API tokens."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from archive.cli import cli as archive_cli
from indexer.cli import cli
from indexer.errors import AccountError, TokenRejected

from .conftest import session_of


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


def test_users_are_added_listed_changed_and_removed_from_the_command_line(home):
    added = run(
        "users", "add", "山田", "--role", "editor", "--password-stdin", input="long enough\n"
    )
    assert added.exit_code == 0, added.output
    assert "ユーザー「山田」（編集: editor）を追加しました" in added.output
    prompted = run("users", "add", "sato", input="another secret\nanother secret\n")
    assert prompted.exit_code == 0, prompted.output
    listing = run("users", "list")
    assert listing.output.splitlines()[0].startswith("sato\treader")
    assert "山田\teditor" in listing.output
    assert run("users", "add", "sato", "--password-stdin", input="long enough\n").exit_code == 1
    short = run("users", "add", "kato", "--password-stdin", input="short\n")
    assert short.exit_code == 1 and "8文字以上" in short.output
    bad_name = run("users", "add", "a b", "--password-stdin", input="long enough\n")
    assert bad_name.exit_code == 1 and "ユーザー名には" in bad_name.output
    assert run("users", "role", "sato", "admin").exit_code == 0
    assert (
        run("users", "passwd", "sato", "--password-stdin", input="brand new one\n").exit_code == 0
    )
    assert run("users", "remove", "sato").exit_code == 0
    missing = run("users", "remove", "sato")
    assert missing.exit_code == 1 and "ユーザー「sato」はいません" in missing.output
    assert "sato" not in run("users", "list").output


def test_passwords_are_kept_as_argon2_hashes_and_checked(archive):
    archive.add_user("reader", "the right one", "reader")
    with session_of(archive) as session:
        stored = session.execute(text("SELECT password_hash FROM users")).scalar_one()
    assert stored.startswith("$argon2id$") and "the right one" not in stored
    assert archive.authenticate("reader", "the right one").role == "reader"
    assert archive.authenticate("reader", "the wrong one") is None
    assert archive.authenticate("nobody", "the right one") is None
    assert archive.authenticate("reader", "x" * 100_000) is None
    with pytest.raises(AccountError, match="役割は"):
        archive.add_user("boss", "long enough", "owner")


def test_a_token_is_shown_once_kept_hashed_and_revocable(home, archive):
    made = run("tokens", "create", "scraper", "--role", "editor")
    assert made.exit_code == 0, made.output
    token = made.stdout.strip()
    assert token.startswith("arc_") and len(token) > 40
    assert "表示はこの一度だけです" in made.stderr
    with session_of(archive) as session:
        row = session.execute(text("SELECT token_hash FROM api_tokens")).scalar_one()
    assert token not in row
    assert archive.verify_token(token).role == "editor"
    assert (
        "scraper\teditor" in run("tokens", "list").output
        and token not in run("tokens", "list").output
    )
    assert run("tokens", "create", "scraper").exit_code == 1
    assert run("tokens", "revoke", "scraper").exit_code == 0
    assert "取り消し済み" in run("tokens", "list").output
    with pytest.raises(TokenRejected, match="取り消されています"):
        archive.verify_token(token)
    with pytest.raises(TokenRejected, match="正しくありません"):
        archive.verify_token(token + "x")
    assert run("tokens", "revoke", "nothing").exit_code == 1


def test_every_node_signs_sessions_with_the_same_secret(archive, home, database_url):
    from .conftest import make_archive

    with make_archive(
        home.parent / "other-node", database_url or f"sqlite:///{home / 'archive.db'}"
    ) as other:
        assert other.web_secret() == archive.web_secret()
    assert len(archive.web_secret()) >= 40


def test_the_command_line_is_named_in_the_history(archive, home, tmp_path):
    from .conftest import write_jsonl

    source = write_jsonl(tmp_path / "a.jsonl", [{"title": "見出し", "body": "本文の文章です。"}])
    assert run("import", str(source)).exit_code == 0
    [article] = list(archive.every_article())
    assert run("delete", str(article.id)).exit_code == 0
    events = archive.history(article.id)
    assert [e.action for e in events] == ["added", "deleted"]
    assert all(e.actor.startswith("shell") for e in events)
    assert events[-1].title == "見出し"


def test_serving_beyond_loopback_needs_accounts_or_public(home):
    refused = CliRunner().invoke(archive_cli, ["serve", "--host", "0.0.0.0", "--port", "1"])
    assert refused.exit_code == 1
    assert "アカウントがひとつもありません" in refused.output and "--public" in refused.output
    private = CliRunner().invoke(archive_cli, ["serve", "--private", "--port", "1"])
    assert private.exit_code == 1 and "users add" in private.output
    both = CliRunner().invoke(archive_cli, ["serve", "--public", "--private"])
    assert both.exit_code == 2 and "一緒に使えません" in both.output
