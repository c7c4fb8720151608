"""Use cases called by every interface (CLI, web application, dossier, Python API).

The command line, the web pages and the reports all go through these functions, so
they always show the same numbers.  One module per capability:

- :mod:`~tierslieux.pipeline.inputs`: resolve inputs (explicit paths, a ``--data``
  folder, the catalogue's downloads, the demo);
- :mod:`~tierslieux.pipeline.diagnose`: potential users of a territory;
- :mod:`~tierslieux.pipeline.communities`: the directory of base communities;
- :mod:`~tierslieux.pipeline.sites`: experimentation sites;
- :mod:`~tierslieux.pipeline.survey`: the questionnaire (answers, analysis, RGPD);
- :mod:`~tierslieux.pipeline.contacts`: the contact follow-up store;
- :mod:`~tierslieux.pipeline.datasets`: the catalogue of official datasets.

The names below are the Python API; import them from ``tierslieux.pipeline``.
"""

from __future__ import annotations

from tierslieux.pipeline.communities import Communities, CommunitiesRequest, run_communities
from tierslieux.pipeline.datasets import fetch_datasets, list_datasets
from tierslieux.pipeline.diagnose import DiagnoseRequest, Diagnosis, run_diagnosis
from tierslieux.pipeline.inputs import (
    demo_files,
    demo_note,
    resolve_communes,
    resolve_densite,
    rurality,
    synthesise_mobpro,
    synthesise_mobpro_for,
    synthetic_note,
)
from tierslieux.pipeline.sites import Co2Estimate, SitesRequest, SitesResult, run_sites
from tierslieux.pipeline.survey import (
    SurveyAnalysis,
    SurveyAnalysisRequest,
    analyse_survey,
    export_answers,
    import_answers,
    submit_answers,
)

__all__ = [
    "Co2Estimate",
    "Communities",
    "CommunitiesRequest",
    "DiagnoseRequest",
    "Diagnosis",
    "SitesRequest",
    "SitesResult",
    "SurveyAnalysis",
    "SurveyAnalysisRequest",
    "analyse_survey",
    "demo_files",
    "demo_note",
    "export_answers",
    "fetch_datasets",
    "import_answers",
    "list_datasets",
    "resolve_communes",
    "resolve_densite",
    "run_communities",
    "run_diagnosis",
    "run_sites",
    "rurality",
    "submit_answers",
    "synthesise_mobpro",
    "synthesise_mobpro_for",
    "synthetic_note",
]
