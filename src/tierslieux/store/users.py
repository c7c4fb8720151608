"""Repository of the web application's users (table ``users``).

Passwords are never stored: :func:`hash_password` derives an Argon2id hash
(``argon2-cffi``'s :class:`~argon2.PasswordHasher`, its default cost: 64 MiB, 3 passes)
kept in the standard PHC form ``$argon2id$v=19$m=...,t=...,p=...$<salt>$<hash>``.
:func:`verify_password` checks a password against it; hashes of the first versions
(``scrypt$<n>$<r>$<p>$<salt>$<hash>``, base64) are still accepted, in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Row, bindparam, func, insert, or_, select, update

from tierslieux.i18n import gettext as _
from tierslieux.store import _records as records
from tierslieux.store._errors import InvalidValueError, UnknownRecordError
from tierslieux.store._schema import Base
from tierslieux.store.views import ROLES, fold_code

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import ColumnElement, Connection

    from tierslieux.store.database import Database

__all__ = [
    "UserRepository",
    "UserView",
    "hash_password",
    "needs_rehash",
    "parse_role",
    "verify_password",
]

USERS = Base.metadata.tables["users"]
#: A user by id, built once: the query of every request of a logged-in user (a statement
#: built per call costs SQLAlchemy more than the read itself).
USER_BY_ID = select(USERS).where(USERS.c.id == bindparam("user"))

_MIN_PASSWORD = 8
_MAX_LOGIN = 100
_MAX_EMAIL = 320


_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """Return the Argon2id hash of ``password`` with a random salt (format in the module doc)."""
    return _HASHER.hash(password)


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches the hash ``stored`` (``False`` for no or a bad hash)."""
    if not stored:
        return False
    if stored.startswith("$argon2"):
        try:
            return _HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
    return _verify_scrypt(password, stored)


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` is an older hash (scrypt, or Argon2 of a lower cost) to replace."""
    if not stored.startswith("$argon2"):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _verify_scrypt(password: str, stored: str) -> bool:
    """Check a hash of the first versions: ``scrypt$<n>$<r>$<p>$<salt>$<hash>``."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        n, r, p = (int(value) for value in parts[1:4])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
        digest = hashlib.scrypt(
            password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=len(expected)
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest, expected)


def parse_role(text: str) -> str:
    """Return the role code for ``text`` (``"chargé de mission"`` → ``charge_de_mission``).

    Raises
    ------
    InvalidValueError
        When the text names no role.
    """
    code = fold_code(text)
    if code in ROLES:
        return code
    raise InvalidValueError(
        _(
            "Rôle inconnu : « {role} ». Rôles possibles : {expected}.",
            role=text,
            expected=", ".join(ROLES),
        )
    )


@dataclass(frozen=True, slots=True)
class UserView:
    """A user as stored, without the password hash (``has_password`` tells if one is set)."""

    id: int
    login: str
    display_name: str
    role: str
    active: bool
    has_password: bool
    created_at: datetime
    updated_at: datetime
    email: str | None = None


def user_from_row(row: Row[Any]) -> UserView:
    """A :class:`UserView` from a row of ``users``."""
    return UserView(
        id=row.id,
        login=row.login,
        display_name=row.display_name,
        role=row.role,
        active=row.active,
        has_password=row.password_hash is not None,
        created_at=row.created_at,
        updated_at=row.updated_at,
        email=row.email,
    )


def _key(user: int | str) -> ColumnElement[bool]:
    if isinstance(user, int):
        return USERS.c.id == user
    cleaned = user.strip().lower()
    return or_(func.lower(USERS.c.login) == cleaned, func.lower(USERS.c.email) == cleaned)


def _unknown(user: int | str) -> UnknownRecordError:
    return UnknownRecordError(_("Aucun utilisateur « {user} ».", user=user))


def _check_password(password: str) -> str:
    if len(password) < _MIN_PASSWORD:
        raise InvalidValueError(
            _("Mot de passe trop court (au moins {n} caractères).", n=_MIN_PASSWORD)
        )
    return hash_password(password)


class UserRepository:
    """Users of the web application, with their role and password hash."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def add_user(
        self,
        login: str,
        *,
        display_name: str,
        role: str,
        email: str | None = None,
        password: str | None = None,
    ) -> UserView:
        """Create a user.

        Parameters
        ----------
        login
            Unique login (case-insensitive), at most 100 characters.
        display_name
            Name shown in the application.
        role
            ``administrateur``, ``charge_de_mission`` or ``lecteur`` (labels accepted).
        email
            Optional unique e-mail address (also accepted as login).
        password
            Optional password (at least 8 characters), stored as an Argon2id hash.

        Raises
        ------
        InvalidValueError
            When a field is empty or malformed, or the login or e-mail is taken.
        """
        cleaned_login = records.clean(login)
        cleaned_name = records.clean(display_name)
        cleaned_email = records.clean(email)
        problems: list[str] = []
        if cleaned_login is None:
            problems.append(_("l'identifiant de connexion est obligatoire"))
        elif len(cleaned_login) > _MAX_LOGIN or "@" in cleaned_login:
            problems.append(_("identifiant de connexion invalide « {login} »", login=login))
        if cleaned_name is None:
            problems.append(_("le nom affiché est obligatoire"))
        if cleaned_email is not None and (
            "@" not in cleaned_email or len(cleaned_email) > _MAX_EMAIL
        ):
            problems.append(_("adresse e-mail invalide « {email} »", email=cleaned_email))
        if problems or cleaned_login is None:
            raise InvalidValueError(
                _("Utilisateur refusé : {problems}.", problems="; ".join(problems))
            )
        code = parse_role(role)
        hashed = None if password is None else _check_password(password)
        moment = records.now()
        with self._database.transaction(write=True) as connection:
            taken = [cleaned_login] + ([cleaned_email] if cleaned_email else [])
            for value in taken:
                if connection.execute(select(USERS.c.id).where(_key(value))).first():
                    raise InvalidValueError(
                        _("L'identifiant ou l'adresse « {value} » est déjà pris.", value=value)
                    )
            result = connection.execute(
                insert(USERS).values(
                    login=cleaned_login,
                    email=cleaned_email,
                    display_name=cleaned_name,
                    password_hash=hashed,
                    role=code,
                    active=True,
                    created_at=moment,
                    updated_at=moment,
                )
            )
            key = result.inserted_primary_key
            if key is None:  # pragma: no cover - both backends return the new id
                msg = "no id returned for the new user"
                raise RuntimeError(msg)
            return self._read(connection, int(key[0]))

    def get_user(self, user: int | str) -> UserView:
        """Return a user by id, login or e-mail address (case-insensitive).

        Raises
        ------
        UnknownRecordError
        """
        with self._database.transaction(write=False) as connection:
            return self._read(connection, user)

    def list_users(self) -> list[UserView]:
        """Return every user, sorted by login."""
        with self._database.transaction(write=False) as connection:
            rows = connection.execute(select(USERS).order_by(USERS.c.login))
            return [user_from_row(row) for row in rows]

    def set_role(self, user: int | str, role: str) -> UserView:
        """Change a user's role.

        Raises
        ------
        InvalidValueError, UnknownRecordError
        """
        return self._update(user, role=parse_role(role))

    def set_password(self, user: int | str, password: str | None) -> UserView:
        """Set (or remove, with ``None``) a user's password.

        Raises
        ------
        InvalidValueError, UnknownRecordError
        """
        return self._update(
            user, password_hash=None if password is None else _check_password(password)
        )

    def set_active(self, user: int | str, *, active: bool) -> UserView:
        """Enable or disable a user's account (a disabled user cannot log in).

        Raises
        ------
        UnknownRecordError
        """
        return self._update(user, active=active)

    def authenticate(self, user: str, password: str) -> UserView | None:
        """Return the active user whose login (or e-mail) and password match, else ``None``."""
        with self._database.transaction(write=False) as connection:
            row = connection.execute(select(USERS).where(_key(user))).first()
        if row is None or not row.active or not verify_password(password, row.password_hash):
            return None
        return user_from_row(row)

    def password_outdated(self, user: int | str) -> bool:
        """Whether the user's stored hash is of an older kind or cost (see :func:`needs_rehash`)."""
        with self._database.transaction(write=False) as connection:
            stored = connection.execute(select(USERS.c.password_hash).where(_key(user))).scalar()
        return stored is not None and needs_rehash(stored)

    def _update(self, user: int | str, **values: Any) -> UserView:  # noqa: ANN401
        with self._database.transaction(write=True) as connection:
            result = connection.execute(
                update(USERS).where(_key(user)).values(**values, updated_at=records.now())
            )
            if result.rowcount != 1:
                raise _unknown(user)
            return self._read(connection, user)

    @staticmethod
    def _read(connection: Connection, user: int | str) -> UserView:
        row = read_user_row(connection, user)
        if row is None:
            raise _unknown(user)
        return user_from_row(row)


def read_user_row(connection: Connection, user: int | str) -> Row[Any] | None:
    """The row of a user by id, login or e-mail address (``None`` when there is none)."""
    if isinstance(user, int):
        return connection.execute(USER_BY_ID, {"user": user}).first()
    return connection.execute(select(USERS).where(_key(user))).first()
