"""One analysis of a dataset held in a database engine: connect, check, aggregate, compute.

The result is a :class:`SourceRun`: the configuration, the results and their
provenance — the same result files as the file path writes, with no
row-level table in memory.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..config import StudyConfig
from ..load import InputFile, sha256_file
from ..provenance import DatasetProvenance, Provenance, provenance_of, relative_path
from ..results import StudyResults, results_document
from ..validate import InfusionDates
from . import SourceSpec
from .aggregate import analyse_source
from .connect import open_source, shown_location
from .digest import row_digest
from .rules import check_source

ENGINE_NAMES = {"duckdb": "DuckDB", "postgres": "PostgreSQL", "spark": "Spark"}


@dataclass(frozen=True)
class SourceRun:
    """What :func:`ketareport.pipeline.write_results` needs from a run, computed in an engine."""

    config: StudyConfig
    results: StudyResults
    provenance: Provenance

    def document(self) -> dict[str, Any]:
        """The plain-data tree of ``results.json`` / ``results.rds``."""
        return results_document(self.results, self.provenance, self.config.as_dict())


def source_spec(dataset: str, engine: str, config: StudyConfig) -> SourceSpec:
    data = config.data
    return SourceSpec(
        location=dataset, engine=engine, patients_table=data.patients, infusions_table=data.infusions,
        columns=dict(data.columns), spark_master=data.spark_master,
    )


def run_source_analysis(
    dataset: str, engine: str, config: StudyConfig, dates: InfusionDates, *, command: list[str] | None,
    progress: Callable[[str], None],
) -> SourceRun:
    """Check and analyse the tables where they are; raises :class:`DatasetInvalid` listing every problem.

    ``dates``: the infusion dates allowed (:func:`ketareport.pipeline.infusion_date_limits`).
    """
    spec = source_spec(dataset, engine, config)
    progress(f"connecting to {ENGINE_NAMES[engine]}: {shown_location(dataset)}")
    source = open_source(spec)
    try:
        progress(f"checking the data dictionary's rules in {ENGINE_NAMES[engine]}")
        typed = check_source(source, dates, config.analysis.index_diagnosis)
        progress(f"analysing in {ENGINE_NAMES[engine]}")
        results = analyse_source(typed, config.analysis, config.labels)
        files = []
        local = Path(dataset.removeprefix("duckdb://"))
        if engine == "duckdb" and local.is_file():
            files.append(InputFile(relative_path(str(local)), sha256_file(local), local.stat().st_size))
            listing = "".join(f"{file.sha256}  {Path(file.path).name}\n" for file in files)
            digest = hashlib.sha256(listing.encode("utf-8")).hexdigest()
        else:  # a server's tables have no file to digest: a digest of their rows, computed by the engine
            progress(f"computing the data digest in {ENGINE_NAMES[engine]}")
            digest = row_digest(source)
    finally:
        source.close()
    dataset_provenance = DatasetProvenance(
        path=shown_location(relative_path(dataset) if files else dataset), container=source.container, files=files,
        rows={"patients": results.cohort.n_patients, "infusions": results.cohort.n_infusions},
        digest=digest,
    )
    return SourceRun(config, results, provenance_of(dataset_provenance, config, command))
