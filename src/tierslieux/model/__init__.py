"""Domain vocabulary of tierslieux: codes, column contracts, frozen types. No I/O."""

from tierslieux.model.codes import commune_of_arrondissement, normalise_commune_code
from tierslieux.model.types import Provenance

__all__ = ["Provenance", "commune_of_arrondissement", "normalise_commune_code"]
