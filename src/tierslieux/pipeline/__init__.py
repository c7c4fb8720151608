"""Use cases called by every interface (CLI, web application, dossier, Python API).

The command line, the web pages and the reports all go through these functions, so
they always show the same numbers.  One module per capability:

- :mod:`~tierslieux.pipeline.inputs`: resolve and load inputs once (explicit paths, a
  ``--data`` folder, the catalogue's downloads, the demo) into :class:`LoadedInputs`;
- :mod:`~tierslieux.pipeline.workspace`: the analytical workspace (Parquet tables and
  their manifest, built by ``tierslieux data build``, opened once by a long process);
- :mod:`~tierslieux.pipeline.readers`: the CSV files other commands write, read back;
- :mod:`~tierslieux.pipeline.diagnose`: potential users of a territory;
- :mod:`~tierslieux.pipeline.communities`: the directory of base communities;
- :mod:`~tierslieux.pipeline.sites`: experimentation sites;
- :mod:`~tierslieux.pipeline.survey`: the questionnaire (answers, analysis, RGPD);
- :mod:`~tierslieux.pipeline.questionnaire`: the questionnaire as a document (shown,
  printed, exported to LimeSurvey);
- :mod:`~tierslieux.pipeline.contacts`: the contact follow-up store;
- :mod:`~tierslieux.pipeline.datasets`: the catalogue of official datasets;
- :mod:`~tierslieux.pipeline.jobs`: long computations in the background (progress,
  cancellation, time limit).

The names below are the Python API; import them from ``tierslieux.pipeline``.
"""

from __future__ import annotations

from tierslieux.pipeline.communities import (
    Communities,
    CommunitiesRequest,
    LoadedRegistries,
    Reach,
    build_communities,
    communities_reach,
    load_registries,
    run_communities,
)
from tierslieux.pipeline.datasets import fetch_datasets, list_datasets
from tierslieux.pipeline.diagnose import DiagnoseRequest, Diagnosis, diagnose, run_diagnosis
from tierslieux.pipeline.inputs import (
    InputFiles,
    LoadedInputs,
    MobproInput,
    TeleworkableShares,
    demo_files,
    demo_note,
    load_inputs,
    load_teleworkable,
    resolve_communes,
    resolve_densite,
    rurality,
    synthesise_mobpro,
    synthesise_mobpro_for,
    synthetic_note,
)
from tierslieux.pipeline.jobs import Job, JobRunner, JobStatus, run_cancellable
from tierslieux.pipeline.questionnaire import QuestionnaireDocument, questionnaire_document
from tierslieux.pipeline.sites import (
    Co2Estimate,
    SitesRequest,
    SitesResult,
    choose_sites,
    load_site_files,
    run_sites,
)
from tierslieux.pipeline.survey import (
    SurveyAnalysis,
    SurveyAnalysisRequest,
    SurveyContext,
    analyse_survey,
    export_answers,
    import_answers,
    submit_answers,
)
from tierslieux.pipeline.workspace import Workspace, build_workspace

__all__ = [
    "Co2Estimate",
    "Communities",
    "CommunitiesRequest",
    "DiagnoseRequest",
    "Diagnosis",
    "InputFiles",
    "Job",
    "JobRunner",
    "JobStatus",
    "LoadedInputs",
    "LoadedRegistries",
    "MobproInput",
    "QuestionnaireDocument",
    "Reach",
    "SitesRequest",
    "SitesResult",
    "SurveyAnalysis",
    "SurveyAnalysisRequest",
    "SurveyContext",
    "TeleworkableShares",
    "Workspace",
    "analyse_survey",
    "build_communities",
    "build_workspace",
    "choose_sites",
    "communities_reach",
    "demo_files",
    "demo_note",
    "diagnose",
    "export_answers",
    "fetch_datasets",
    "import_answers",
    "list_datasets",
    "load_inputs",
    "load_registries",
    "load_site_files",
    "load_teleworkable",
    "questionnaire_document",
    "resolve_communes",
    "resolve_densite",
    "run_cancellable",
    "run_communities",
    "run_diagnosis",
    "run_sites",
    "rurality",
    "submit_answers",
    "synthesise_mobpro",
    "synthesise_mobpro_for",
    "synthetic_note",
]
