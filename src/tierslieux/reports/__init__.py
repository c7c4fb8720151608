"""reports layer."""

__all__: list[str] = []
