"""Use cases of the web application's accounts: users, logins, setup link, audit log.

Roles (:data:`ROLES`): ``administrateur`` (users, settings, every project),
``charge_de_mission`` (everything on the projects they belong to) and ``lecteur``
(read-only).  Every change is written to the audit log with its author.

Login throttling (:class:`LoginPolicy`, defaults): after 5 failed logins within 15
minutes for one account, or 20 from one address, that account or address is locked for
15 minutes; the counters live in the store, so every worker process of a server
shares them.  The one-time setup link creates the first administrator; it expires
after 24 hours and works once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tierslieux.errors import TierslieuxError
from tierslieux.i18n import N_, local_time
from tierslieux.i18n import gettext as _
from tierslieux.store import ROLES, InvalidValueError, UnknownRecordError, UserView, parse_role

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from tierslieux.store import AuditView, Repositories

__all__ = [
    "MIN_PASSWORD",
    "ROLES",
    "SETUP_PURPOSE",
    "LoginLockedError",
    "LoginPolicy",
    "UnknownRecordError",
    "UserView",
    "add_user",
    "audit",
    "audit_entries",
    "authenticate",
    "complete_setup",
    "create_setup_link",
    "has_administrator",
    "list_users",
    "parse_role",
    "role_label",
    "setup_link_valid",
]

#: Purpose of the one-time tokens of the first administrator's setup link.
SETUP_PURPOSE = "setup"
#: How long a setup link stays valid.
SETUP_LIFETIME = timedelta(hours=24)
_ROLE_LABELS = {
    "administrateur": N_("administrateur"),
    "charge_de_mission": N_("chargé de mission"),
    "lecteur": N_("lecteur"),
}
#: Shortest password accepted (the store's rule, checked before a setup link is used).
MIN_PASSWORD = 8
_LOGIN_CHARS = re.compile(r"[^a-z0-9._-]+")
_MAX_LOGIN = 100


def role_label(role: str) -> str:
    """The name of a role code in words (``charge_de_mission`` → « chargé de mission »)."""
    return _(_ROLE_LABELS.get(role, role))


@dataclass(frozen=True)
class LoginPolicy:
    """Limits of login throttling (see the module documentation)."""

    account_failures: int = 5
    address_failures: int = 20
    window: timedelta = timedelta(minutes=15)
    lock: timedelta = timedelta(minutes=15)


class LoginLockedError(TierslieuxError):
    """Too many failed logins: the account or the address is locked until ``until``."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(
            _(
                "Trop d'échecs de connexion : réessayez après {time} (heure de Paris).",
                time=local_time(until).strftime("%H:%M"),
            )
        )


def audit(
    repos: Repositories,
    *,
    actor: str | None,
    action: str,
    target: str,
    details: Mapping[str, Any] | None = None,
    ip: str | None = None,
) -> None:
    """Write one row of the audit log (who, what, on what; the time is the store's)."""
    repos.audit.record(actor=actor, action=action, target=target, details=details, ip=ip)


def audit_entries(repos: Repositories, *, limit: int = 100, offset: int = 0) -> list[AuditView]:
    """The latest rows of the audit log first."""
    return repos.audit.entries(limit=limit, offset=offset)


def _login_for(repos: Repositories, email: str) -> str:
    """A free login derived from the e-mail address (``marie.dupont@x.fr`` → ``marie.dupont``)."""
    base = _LOGIN_CHARS.sub("-", email.split("@", 1)[0].strip().lower()).strip("-") or "user"
    base = base[: _MAX_LOGIN - 4]
    taken = {user.login.lower() for user in repos.users.list_users()}
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}{number}"
    return candidate


def add_user(
    repos: Repositories,
    email: str,
    *,
    role: str,
    actor: str,
    password: str | None = None,
    display_name: str | None = None,
    ip: str | None = None,
) -> UserView:
    """Create a user named by e-mail address, with a role and optionally a password.

    The login is the part of the address before ``@`` (made unique); the user can log
    in with either.  The password (at least 8 characters) is stored as an Argon2id hash.

    Raises
    ------
    InvalidValueError
        When the address, the role or the password is refused (the message says why).
    """
    cleaned = email.strip()
    if "@" not in cleaned:
        raise InvalidValueError(
            _("Adresse e-mail invalide « {email} » (attendu nom@domaine).", email=email)
        )
    code = parse_role(role)
    user = repos.users.add_user(
        _login_for(repos, cleaned),
        display_name=(display_name or "").strip() or cleaned.split("@", 1)[0],
        role=code,
        email=cleaned,
        password=password,
    )
    audit(
        repos,
        actor=actor,
        action="user.add",
        target=f"user:{user.login}",
        details={"role": code, "email": cleaned},
        ip=ip,
    )
    return user


def list_users(repos: Repositories) -> list[UserView]:
    """Every user, sorted by login."""
    return repos.users.list_users()


def has_administrator(repos: Repositories) -> bool:
    """Whether an active administrator exists."""
    return any(user.role == "administrateur" and user.active for user in repos.users.list_users())


def _throttle_keys(login: str, ip: str | None) -> tuple[str, str | None]:
    return f"compte:{login.strip().lower()}", None if ip is None else f"ip:{ip}"


def authenticate(
    repos: Repositories,
    login: str,
    password: str,
    *,
    ip: str | None,
    policy: LoginPolicy | None = None,
) -> UserView | None:
    """Check a login (login or e-mail) and password, with throttling.

    Returns the user, or ``None`` for a wrong login or password (the caller shows
    one message for both).  A success forgets the failures of the account and is
    written to the audit log; an older hash is replaced by an Argon2id one.

    Raises
    ------
    LoginLockedError
        When the account or the address is locked (before checking the password).
    """
    policy = policy or LoginPolicy()
    account, address = _throttle_keys(login, ip)
    keys = [account] + ([address] if address else [])
    locked = repos.security.locked_until(keys)
    if locked is not None:
        raise LoginLockedError(locked)
    user = repos.users.authenticate(login, password)
    if user is None:
        lock = repos.security.register_failure(
            [account], limit=policy.account_failures, window=policy.window, lock=policy.lock
        )
        if address:
            address_lock = repos.security.register_failure(
                [address], limit=policy.address_failures, window=policy.window, lock=policy.lock
            )
            lock = max(filter(None, (lock, address_lock)), default=None)
        if lock is not None:
            audit(repos, actor=None, action="auth.locked", target=f"login:{login[:100]}", ip=ip)
        return None
    repos.security.clear_failures([account])
    if repos.users.password_outdated(user.id):
        repos.users.set_password(user.id, password)
    audit(repos, actor=user.login, action="auth.login", target=f"user:{user.login}", ip=ip)
    return user


def create_setup_link(repos: Repositories) -> tuple[str, datetime]:
    """A one-time token to create the first administrator, and when it expires."""
    return repos.security.create_token(SETUP_PURPOSE, lifetime=SETUP_LIFETIME)


def setup_link_valid(repos: Repositories, token: str) -> bool:
    """Whether ``token`` is an unused, unexpired setup token while no administrator exists."""
    return not has_administrator(repos) and repos.security.token_is_valid(token, SETUP_PURPOSE)


def complete_setup(
    repos: Repositories,
    token: str,
    *,
    email: str,
    password: str,
    display_name: str | None = None,
    ip: str | None = None,
) -> UserView:
    """Create the first administrator with a setup token (which then no longer works).

    Raises
    ------
    TierslieuxError
        When the link is unknown, expired or already used, or an administrator exists.
    InvalidValueError
        When the address or the password is refused (the link stays usable).
    """
    if has_administrator(repos):
        raise TierslieuxError(_("Un administrateur existe déjà : connectez-vous."))
    if "@" not in email.strip():
        raise InvalidValueError(
            _("Adresse e-mail invalide « {email} » (attendu nom@domaine).", email=email)
        )
    if len(password) < MIN_PASSWORD:
        raise InvalidValueError(
            _("Mot de passe trop court (au moins {n} caractères).", n=MIN_PASSWORD)
        )
    if not repos.security.consume_token(token, SETUP_PURPOSE):
        raise TierslieuxError(_("Lien d'installation inconnu, expiré ou déjà utilisé."))
    return add_user(
        repos,
        email,
        role="administrateur",
        actor="installation",
        password=password,
        display_name=display_name,
        ip=ip,
    )
