"""The web application of tierslieux (``tierslieux web``): an interface like the CLI.

It reaches data and computations through :mod:`tierslieux.pipeline` only.  Modules:

- :mod:`~tierslieux.web.app`: :func:`~tierslieux.web.app.create_app`, the factory;
- :mod:`~tierslieux.web.settings`: :class:`~tierslieux.web.settings.WebSettings` and
  the secret key;
- :mod:`~tierslieux.web.security`: security headers and CSRF tokens;
- :mod:`~tierslieux.web.auth`: the session's user and the role dependencies;
- :mod:`~tierslieux.web.rendering`: ``render(request, "name.html", **context)``;
- :mod:`~tierslieux.web.routes`: the pages;
- :mod:`~tierslieux.web.server`: what ``tierslieux web`` runs.
"""
