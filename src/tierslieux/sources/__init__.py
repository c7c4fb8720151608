"""I/O only: download, cache, parse and validate official sources into canonical frames."""

__all__: list[str] = []
