"""Settings of the web application (:class:`WebSettings`) and its secret key.

An optional tile basemap (``TIERSLIEUX_BASEMAP_URL``, ``tierslieux web --basemap-url``;
off by default: the commune outlines alone make a readable map) is drawn under the
maps; its host, and only it, is then allowed by the Content-Security-Policy.

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
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from tierslieux.basemap import basemap_credit, check_basemap_url
from tierslieux.config import Settings
from tierslieux.errors import TierslieuxError
from tierslieux.i18n import gettext as _
from tierslieux.pipeline.accounts import LoginPolicy
from tierslieux.pipeline.database import database_url, default_database_path
from tierslieux.pipeline.workspace import default_workspace

if TYPE_CHECKING:
    from collections.abc import Mapping

    from starlette.requests import Request

__all__ = [
    "DEFAULT_SECRETS",
    "MIN_SECRET_LENGTH",
    "SECRET_FILE",
    "SecretKeyError",
    "WebSettings",
    "WebSettingsError",
    "resolve_secret_key",
    "web_settings",
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


class WebSettingsError(TierslieuxError, ValueError):
    """A setting of the web application read from the environment is unusable."""


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


def _positive(text: str, variable: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if value < 1:
        raise WebSettingsError(
            _(
                "{variable} vaut « {value} » : un nombre entier positif est attendu.",
                variable=variable,
                value=text[:40],
            )
        )
    return value


def _base_url(text: str) -> str:
    """A public base URL checked (``http(s)://host[/path]``, no trailing ``/``), or ``""``."""
    value = text.strip().rstrip("/")
    if not value:
        return ""
    parsed = urlsplit(value)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc or parsed.query:
        raise WebSettingsError(
            _(
                "Adresse publique « {value} » refusée : une adresse http:// ou https:// "
                "sans paramètres est attendue, par exemple https://enquete.exemple.fr.",
                value=text[:100],
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
        interpreter lock and every answer slower (bench/bench_web.py, 20 users on the
        PACA project, one process: p95 104 ms with 2 threads, 115 ms with 4, 167 ms
        with 8); 4 leaves room for a slow upload or export beside the pages.
    public_rate_limit, public_rate_window_s
        Answers (and receipt look-ups) the public questionnaire accepts from one client
        address per window, per worker process (``TIERSLIEUX_WEB_PUBLIC_RATE_LIMIT``,
        ``TIERSLIEUX_WEB_PUBLIC_RATE_WINDOW``): generous by default (60 in 10 minutes),
        because a town hall or a library shares one address between all its visitors.
    public_base_url
        The address residents reach the server at (``https://enquete.exemple.fr``), for
        the public links, the flyer and its QR code (``TIERSLIEUX_WEB_PUBLIC_URL``,
        ``tierslieux web --public-url``); empty: the address the request came to, which
        behind a proxy or on a laptop may not be the one residents can open.
    trust_forwarded_for
        Take the client's address from the last entry of ``X-Forwarded-For``
        (``TIERSLIEUX_WEB_TRUST_FORWARDED_FOR=1``), for a reverse proxy on another host;
        a proxy on the same host (127.0.0.1) is already trusted by the server.
    basemap_url
        Tile template of an optional raster basemap drawn under the maps
        (:func:`check_basemap_url`); empty (the default): no basemap, no other host.
    basemap_attribution
        Credit shown for the basemap; empty: the usual one of OpenStreetMap or the IGN
        when the URL is theirs.
    """

    core: Settings = field(default_factory=Settings)
    secret_key: str = ""
    production: bool = False
    workspace: Path | None = None
    session_hours: float = 8.0
    login_policy: LoginPolicy = field(default_factory=LoginPolicy)
    max_upload_bytes: int = 200 * 1024 * 1024
    run_workers: int = 2
    request_threads: int = 4
    public_rate_limit: int = 60
    public_rate_window_s: int = 600
    trust_forwarded_for: bool = False
    basemap_url: str = ""
    basemap_attribution: str = ""
    public_base_url: str = ""

    def __post_init__(self) -> None:
        """Refuse a basemap URL that is not a safe tile template, or a bad public URL."""
        object.__setattr__(self, "basemap_url", check_basemap_url(self.basemap_url))
        object.__setattr__(self, "public_base_url", _base_url(self.public_base_url))

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, **overrides: object
    ) -> WebSettings:
        """Read the settings from ``TIERSLIEUX_*`` variables (what each worker process does).

        ``TIERSLIEUX_WEB_PRODUCTION`` (``1``) sets production mode,
        ``TIERSLIEUX_WORKSPACE`` the workspace folder, ``TIERSLIEUX_BASEMAP_URL`` and
        ``TIERSLIEUX_BASEMAP_ATTRIBUTION`` the optional tile basemap; the other
        settings are those of :class:`~tierslieux.config.Settings`.

        Raises
        ------
        SecretKeyError
            See :func:`resolve_secret_key`.
        BasemapError
            See :func:`check_basemap_url`.
        """
        env = os.environ if environ is None else environ
        production = bool(overrides.pop("production", None)) or (
            env.get("TIERSLIEUX_WEB_PRODUCTION", "").strip().lower() in _TRUE
        )
        core = overrides.pop("core", None)
        if not isinstance(core, Settings):
            core = Settings()
        workspace = overrides.pop("workspace", None) or env.get("TIERSLIEUX_WORKSPACE") or None
        for name, variable in (
            ("public_rate_limit", "TIERSLIEUX_WEB_PUBLIC_RATE_LIMIT"),
            ("public_rate_window_s", "TIERSLIEUX_WEB_PUBLIC_RATE_WINDOW"),
            ("request_threads", "TIERSLIEUX_WEB_THREADS"),
        ):
            if name not in overrides and env.get(variable, "").strip():
                overrides[name] = _positive(env[variable], variable)
        public_url = env.get("TIERSLIEUX_WEB_PUBLIC_URL", "").strip()
        if not overrides.get("public_base_url") and public_url:
            overrides["public_base_url"] = public_url
        if "trust_forwarded_for" not in overrides:
            overrides["trust_forwarded_for"] = (
                env.get("TIERSLIEUX_WEB_TRUST_FORWARDED_FOR", "").strip().lower() in _TRUE
            )
        key = resolve_secret_key(core, production=production, environ=env)
        for name, variable in (
            ("basemap_url", "TIERSLIEUX_BASEMAP_URL"),
            ("basemap_attribution", "TIERSLIEUX_BASEMAP_ATTRIBUTION"),
        ):
            if not overrides.get(name):
                overrides[name] = env.get(variable, "")
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

    @property
    def basemap_origin(self) -> str | None:
        """``scheme://host[:port]`` of the basemap's tiles, or None without basemap."""
        if not self.basemap_url:
            return None
        parts = urlsplit(self.basemap_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def basemap_credit(self) -> str:
        """The credit shown with the basemap (given, else the usual one of its host)."""
        return basemap_credit(self.basemap_url, self.basemap_attribution)


def web_settings(request: Request) -> WebSettings:
    """The settings of the application serving ``request`` (set by ``create_app``)."""
    settings: WebSettings = request.app.state.settings
    return settings
