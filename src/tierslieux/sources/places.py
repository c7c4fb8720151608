"""Existing places read as anchors: compatibility re-exports of the three loaders.

Each dataset has its own module: :mod:`tierslieux.sources.tiers_lieux` (CGET/ANCT
census and alias lists), :mod:`tierslieux.sources.gares` (SNCF stations),
:mod:`tierslieux.sources.mediation` (lieux de médiation numérique); what they share is
in :mod:`tierslieux.sources._records`.  New code imports from those modules.
"""

from tierslieux.sources._records import (
    PERSONAL_FIELDS,
    filter_communes,
    raise_problems,
    structures_frame,
)
from tierslieux.sources.gares import load_gares
from tierslieux.sources.mediation import MAX_CENTRE_DISTANCE_KM, load_mediation_numerique
from tierslieux.sources.tiers_lieux import TIERS_LIEUX_ALIASES, load_tiers_lieux

__all__ = [
    "MAX_CENTRE_DISTANCE_KM",
    "PERSONAL_FIELDS",
    "TIERS_LIEUX_ALIASES",
    "filter_communes",
    "load_gares",
    "load_mediation_numerique",
    "load_tiers_lieux",
    "raise_problems",
    "structures_frame",
]
