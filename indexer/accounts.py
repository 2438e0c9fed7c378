"""Who may use the archive: users and their roles, API tokens, feed keys and the web's secret.

Passwords are hashed with Argon2 (argon2-cffi's defaults, which follow RFC 9106);
a login checks a hash even for a name that does not exist, so that the time it
takes does not tell which names do.  API tokens are 256 random bits: a
SHA-256 of one is as good as a slow hash against guessing, and lets a request
find its token with one indexed lookup, so that is what is kept; the token
itself is shown once, when it is made.  A feed key is the user's id and feed
version signed with the shared secret (itsdangerous), so that it needs no
table of its own and raising the version revokes every key given out before.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from indexer.errors import AccountError, TokenRejected
from indexer.store.models import ApiToken, SavedSearch, Secret, User, utcnow

READER, EDITOR, ADMIN = "reader", "editor", "admin"
# Each role may do what the ones before it may.
ROLES = (READER, EDITOR, ADMIN)
ROLE_NAMES = {READER: "閲覧", EDITOR: "編集", ADMIN: "管理"}
MIN_PASSWORD_CHARS = 8
# Argon2 takes anything, but hashing megabytes on every login attempt is an easy way
# to make a server busy.
MAX_PASSWORD_CHARS = 1024
# Letters and digits of any script (so 山田 is a name), and . _ @ -.
_NAME = re.compile(r"^[\w.@-]{1,64}$")
TOKEN_PREFIX = "arc_"
SESSION_SECRET = "session"

_hasher = PasswordHasher()
# Checked against when the name is unknown, so that an unknown name costs as long.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Account:
    """A user as the front ends see it (never the password hash)."""

    id: int
    name: str
    role: str
    session_key: str
    feed_version: int
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> Account:
        return cls(
            user.id, user.name, user.role, user.session_key, user.feed_version, user.created_at
        )


@dataclass(frozen=True)
class TokenInfo:
    """A named API token (never the token itself, which only its maker saw)."""

    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenInfo:
        return cls(token.name, token.role, token.created_at, token.revoked_at)


def at_least(role: str, needed: str) -> bool:
    """Whether ``role`` may do what ``needed`` may."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def checked_name(name: str, what: str = "ユーザー名") -> str:
    name = unicodedata.normalize("NFKC", name).strip()
    if not _NAME.match(name):
        raise AccountError(
            f"{what}には文字・数字と . _ @ - を64文字まで使えます（{name[:70]!r} は使えません）。"
        )
    return name


def checked_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(
            f"役割は {'、'.join(ROLES)} のどれかです（{role[:20]!r} はありません）。"
        )
    return role


def _checked_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"パスワードは{MIN_PASSWORD_CHARS}文字以上にしてください。")
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError(f"パスワードは{MAX_PASSWORD_CHARS}文字までです。")
    return password


def _user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise AccountError(f"ユーザー「{name}」はいません（python -m indexer users list で一覧）。")
    return user


def add_user(session: Session, name: str, password: str, role: str) -> Account:
    name, role = checked_name(name), checked_role(role)
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise AccountError(f"ユーザー「{name}」はもういます。")
    user = User(
        name=name,
        password_hash=_hasher.hash(_checked_password(password)),
        role=role,
        session_key=secrets.token_hex(16),
        feed_version=1,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise AccountError(f"ユーザー「{name}」はもういます。") from None
    return Account.of(user)


def list_users(session: Session) -> list[Account]:
    return [Account.of(u) for u in session.scalars(select(User).order_by(User.name))]


def remove_user(session: Session, name: str) -> None:
    """Remove the user and their saved searches; their sessions and feed keys stop working."""
    user = _user(session, name)
    session.execute(delete(SavedSearch).where(SavedSearch.user_id == user.id))
    session.delete(user)


def set_password(session: Session, name: str, password: str) -> None:
    """A new password, which also ends every session signed in with the old one."""
    user = _user(session, name)
    user.password_hash = _hasher.hash(_checked_password(password))
    user.session_key = secrets.token_hex(16)


def set_role(session: Session, name: str, role: str) -> Account:
    user = _user(session, name)
    user.role = checked_role(role)
    return Account.of(user)


def authenticate(session: Session, name: str, password: str) -> Account | None:
    """The account this name and password open, or ``None`` (which of the two was wrong is
    not said, nor shown by the time it takes)."""
    if len(password) > MAX_PASSWORD_CHARS:
        return None
    try:
        name = unicodedata.normalize("NFKC", name).strip()
    except TypeError:
        return None
    user = session.scalar(select(User).where(User.name == name)) if name else None
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return Account.of(user)


def account(session: Session, user_id: int, session_key: str) -> Account | None:
    """The account a session cookie names, if its key is still the user's."""
    user = session.get(User, user_id)
    if user is None or not secrets.compare_digest(user.session_key, session_key):
        return None
    return Account.of(user)


def user_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


# API tokens


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, name: str, role: str) -> tuple[TokenInfo, str]:
    """A new token: what is kept of it, and the token itself (shown this once)."""
    name, role = checked_name(name, "トークン名"), checked_role(role)
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise AccountError(f"トークン「{name}」はもうあります（取り消したものも名前は残ります）。")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, role=role, token_hash=_digest(token))
    session.add(row)
    session.flush()
    return TokenInfo.of(row), token


def list_tokens(session: Session) -> list[TokenInfo]:
    return [TokenInfo.of(t) for t in session.scalars(select(ApiToken).order_by(ApiToken.name))]


def revoke_token(session: Session, name: str) -> TokenInfo:
    row = session.scalar(select(ApiToken).where(ApiToken.name == name))
    if row is None:
        raise AccountError(
            f"トークン「{name}」はありません（python -m indexer tokens list で一覧）。"
        )
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return TokenInfo.of(row)


def verify_token(session: Session, token: str) -> TokenInfo:
    """The token a request presents; :class:`TokenRejected` saying why if it opens nothing."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None:
        raise TokenRejected("APIトークンが正しくありません。")
    if row.revoked_at is not None:
        raise TokenRejected(f"APIトークン「{row.name}」は取り消されています。")
    return TokenInfo.of(row)


# The secret every worker and node signs sessions and feed keys with


def shared_secret(session: Session, name: str = SESSION_SECRET) -> str:
    """The secret called ``name``, made the first time it is asked for (by whoever is first)."""
    found = session.get(Secret, name)
    if found is not None:
        return found.value
    try:
        with session.begin_nested():
            session.add(Secret(name=name, value=secrets.token_urlsafe(48)))
    except IntegrityError:
        pass  # another worker made it a moment ago: theirs is the one
    found = session.get(Secret, name)
    assert found is not None
    return found.value


def _feed_signer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="archive-feed-key")


def feed_key(secret: str, account: Account) -> str:
    return _feed_signer(secret).dumps([account.id, account.feed_version])


def feed_account(session: Session, secret: str, key: str) -> Account | None:
    """The account a feed key belongs to, if it was not revoked since."""
    try:
        user_id, version = _feed_signer(secret).loads(key)
    except (BadSignature, ValueError, TypeError):
        return None
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or user.feed_version != version:
        return None
    return Account.of(user)


def renew_feed_key(session: Session, user_id: int) -> Account:
    """Revoke the user's feed key (every feed URL with it) and return the account's new state."""
    user = session.get(User, user_id)
    if user is None:
        raise AccountError("このユーザーはもういません。")
    user.feed_version += 1
    return Account.of(user)
