"""tierslieux: evidence for launching rural tiers-lieux from official open data."""

from tierslieux.errors import SchemaError, SourceError, TerritoryError, TierslieuxError

__all__ = ["SchemaError", "SourceError", "TerritoryError", "TierslieuxError", "__version__"]

__version__ = "0.1.0"
