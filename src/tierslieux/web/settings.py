"""Settings of the web application (:class:`WebSettings`) and its secret key.

The secret key signs the session cookies.  It comes from ``TIERSLIEUX_SECRET_KEY``;
in production mode (``--production``, ``TIERSLIEUX_WEB_PRODUCTION=1``) the application
refuses to start without it, with a known default or with a short one.  Otherwise
(a laptop) a random key is drawn once and kept beside the database, in the file
``web-secret-key`` readable by its owner only (0600), so that sessions survive a
restart and every worker process shares it.
"""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from tierslieux.config import Settings
from tierslieux.errors import TierslieuxError
from tierslieux.i18n import gettext as _
from tierslieux.pipeline.accounts import LoginPolicy
from tierslieux.pipeline.database import database_url, default_database_path
from tierslieux.pipeline.workspace import default_workspace

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "DEFAULT_SECRETS",
    "MIN_SECRET_LENGTH",
    "SECRET_FILE",
    "SecretKeyError",
    "WebSettings",
    "resolve_secret_key",
]

#: Name of the file of the development secret key, beside the database.
SECRET_FILE = "web-secret-key"  # noqa: S105 - a file name, not a secret
#: Shortest secret key accepted in production (characters).
MIN_SECRET_LENGTH = 32
#: Keys that are known to everyone (examples, placeholders): refused in production.
DEFAULT_SECRETS = frozenset(
    {
        "",
        "changeme",
        "change-me",
        "change_me",
        "secret",
        "secret-key",
        "dev",
        "development",
        "tierslieux",
        "remplacez-moi",
        "a-changer",
    }
)
_TRUE = {"1", "true", "yes", "oui", "on"}


class SecretKeyError(TierslieuxError):
    """No usable secret key for the session cookies (production mode)."""


def _secret_folder(core: Settings) -> Path:
    """The folder of the database (SQLite file), else the default data folder."""
    url = database_url(core)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return Path(parsed.database).resolve().parent
    return default_database_path().parent


def _read_or_create(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(0o600)
        return path.read_text(encoding="ascii").strip()
    key = secrets.token_urlsafe(48)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key


def resolve_secret_key(
    core: Settings, *, production: bool, environ: Mapping[str, str] | None = None
) -> str:
    """Return the secret key of the session cookies (see the module documentation).

    Raises
    ------
    SecretKeyError
        In production, when ``TIERSLIEUX_SECRET_KEY`` is unset, a default or too short.
    """
    given = (os.environ if environ is None else environ).get("TIERSLIEUX_SECRET_KEY", "").strip()
    if production:
        if given.lower() in DEFAULT_SECRETS:
            raise SecretKeyError(
                _(
                    "Mode production : définissez TIERSLIEUX_SECRET_KEY avec une clé secrète "
                    "propre à ce serveur (au moins {n} caractères, par exemple la sortie de "
                    "« python3 -c 'import secrets; print(secrets.token_urlsafe(48))' »). "
                    "Le serveur ne démarre pas sans elle ni avec une clé par défaut.",
                    n=MIN_SECRET_LENGTH,
                )
            )
        if len(given) < MIN_SECRET_LENGTH:
            raise SecretKeyError(
                _(
                    "Mode production : TIERSLIEUX_SECRET_KEY est trop courte ({length} "
                    "caractères, au moins {n} attendus).",
                    length=len(given),
                    n=MIN_SECRET_LENGTH,
                )
            )
        return given
    if given:
        return given
    return _read_or_create(_secret_folder(core) / SECRET_FILE)


_MAX_THREADS = 256


def _threads(text: str) -> int:
    """``TIERSLIEUX_WEB_THREADS``: a whole number of threads from 1 to 256."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= _MAX_THREADS:
        raise TierslieuxError(
            _(
                "TIERSLIEUX_WEB_THREADS invalide « {value} » : un nombre entier de 1 à {max}.",
                value=text,
                max=_MAX_THREADS,
            )
        )
    return value


@dataclass(frozen=True)
class WebSettings:
    """Everything :func:`tierslieux.web.app.create_app` needs.

    Attributes
    ----------
    core
        The settings of tierslieux (database, cache, language...).
    secret_key
        Key signing the session cookies; empty: :func:`resolve_secret_key` draws it.
    production
        Behind HTTPS: cookies marked ``Secure``, HSTS, refuse a default secret key.
    workspace
        Workspace folder (territory names); ``None``: ``<cache>/workspace``.
    session_hours
        Lifetime of a session cookie.
    login_policy
        Limits of login throttling.
    max_upload_bytes
        Largest input file accepted by an upload.
    run_workers
        Computations (diagnostic, sites...) one worker process runs at the same time;
        the others wait, ``queued``.
    request_threads
        Requests one worker process serves at the same time (its thread pool,
        ``TIERSLIEUX_WEB_THREADS``); the others wait their turn.  The pages are short
        computations in Python: more threads than that only make them share the
        interpreter lock and every answer slower.
    """

    core: Settings = field(default_factory=Settings)
    secret_key: str = ""
    production: bool = False
    workspace: Path | None = None
    session_hours: float = 8.0
    login_policy: LoginPolicy = field(default_factory=LoginPolicy)
    max_upload_bytes: int = 200 * 1024 * 1024
    run_workers: int = 2
    request_threads: int = 8

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, **overrides: object
    ) -> WebSettings:
        """Read the settings from ``TIERSLIEUX_*`` variables (what each worker process does).

        ``TIERSLIEUX_WEB_PRODUCTION`` (``1``) sets production mode and
        ``TIERSLIEUX_WORKSPACE`` the workspace folder; the other settings are those of
        :class:`~tierslieux.config.Settings`.

        Raises
        ------
        SecretKeyError
            See :func:`resolve_secret_key`.
        """
        env = os.environ if environ is None else environ
        production = bool(overrides.pop("production", None)) or (
            env.get("TIERSLIEUX_WEB_PRODUCTION", "").strip().lower() in _TRUE
        )
        core = overrides.pop("core", None)
        if not isinstance(core, Settings):
            core = Settings()
        workspace = overrides.pop("workspace", None) or env.get("TIERSLIEUX_WORKSPACE") or None
        key = resolve_secret_key(core, production=production, environ=env)
        threads = env.get("TIERSLIEUX_WEB_THREADS", "").strip()
        if threads and "request_threads" not in overrides:
            overrides["request_threads"] = _threads(threads)
        return cls(
            core=core,
            secret_key=key,
            production=production,
            workspace=Path(str(workspace)) if workspace else None,
            **overrides,  # type: ignore[arg-type]
        )

    def with_secret(self) -> WebSettings:
        """These settings with a secret key (drawn or read when it is empty)."""
        if self.secret_key:
            if self.production:
                resolve_secret_key(
                    self.core,
                    production=True,
                    environ={"TIERSLIEUX_SECRET_KEY": self.secret_key},
                )
            return self
        return replace(self, secret_key=resolve_secret_key(self.core, production=self.production))

    @property
    def workspace_path(self) -> Path:
        """The workspace folder used for territory names."""
        return self.workspace or default_workspace(self.core)
