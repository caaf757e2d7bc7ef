"""``ketareport check``: what a dataset holds, in a few lines, before anything is computed or written."""

from __future__ import annotations

from collections.abc import Mapping

from .cohort import Cohort
from .config import AnalysisOptions, StudyConfig
from .contract import ANALYSIS_COLUMNS, COLUMN_LABELS, index_look_alikes


def summary_lines(cohort: Cohort, config: StudyConfig) -> list[str]:
    """Patients, infusions, exclusions by reason, groups, relief recorded, and missing metadata."""
    patients, infusions = cohort.patients, cohort.infusions
    options = cohort.options
    n_index = int(patients["is_index"].sum())
    excluded = infusions[infusions["excluded"]]
    lines = [
        # Label, then count: "1 other diagnoses" would need the label's plural.
        f"patients: {len(patients)} ({options.index_label} {n_index}, {options.comparison_label.lower()} {len(patients) - n_index})",
        f"infusions: {len(infusions)}, of which {len(infusions) - len(excluded)} analysable",
    ]
    if len(excluded):
        missing = excluded[list(ANALYSIS_COLUMNS)].isna().sum()
        reasons = ", ".join(f"{count} missing {COLUMN_LABELS[column]}" for column, count in missing.items() if count)
        lines.append(f"excluded for missing data: {len(excluded)} infusions ({reasons})")
    else:
        lines.append("excluded for missing data: none")
    analysed = int((patients["n_infusions_analyzed"] > 0).sum())
    lines.append(f"patients with an analysable infusion: {analysed} of {len(patients)}")
    counts = patients["diagnosis"].value_counts(sort=True)
    lines.append("diagnoses: " + ", ".join(f"{cohort.diagnosis_labels[key]} {count}" for key, count in counts.items()))
    recorded = patients["relief_duration_days"].notna()
    ongoing = int((recorded & patients["relief_ongoing"]).sum())
    lines.append(f"relief duration recorded: {int(recorded.sum())} patients ({ongoing} with relief ongoing at last contact)")
    lines.extend(f"warning: {warning}" for warning in warnings_of(cohort))
    missing_metadata = config.missing_metadata()
    lines.append("study.yml: complete" if not missing_metadata else f"study.yml lacks: {'; '.join(missing_metadata)}")
    return lines


def cohort_warnings(diagnoses: Mapping[str, int], labels: Mapping[str, str], options: AnalysisOptions) -> list[str]:
    """What is valid but probably not meant: an index diagnosis no patient has, or diagnoses resembling it that
    fall in the comparison group. ``diagnoses``: patients by diagnosis key; ``labels``: how each is printed."""
    warnings = []
    if options.index_diagnosis not in diagnoses:
        warnings.append(
            f"no patient has the index diagnosis '{options.index_diagnosis}' (study.yml analysis.index_diagnosis): "
            f"the index group ({options.index_label}) is empty; the diagnoses are "
            + ", ".join(f"'{key}'" for key in diagnoses)
        )
    for key in index_look_alikes(diagnoses, options.index_diagnosis):
        count = int(diagnoses[key])
        warnings.append(
            f"{count} {'patient has' if count == 1 else 'patients have'} the diagnosis "
            f"'{labels[key]}', which is in the comparison group: the index group "
            f"({options.index_label}) is the diagnosis '{options.index_diagnosis}' only "
            f"(study.yml analysis.index_diagnosis); recode the data if they belong to it"
        )
    return warnings


def warnings_of(cohort: Cohort) -> list[str]:
    """:func:`cohort_warnings` of a cohort read from files."""
    counts = cohort.patients["diagnosis"].value_counts(sort=True)
    return cohort_warnings({str(key): int(n) for key, n in counts.items()}, cohort.diagnosis_labels, cohort.options)
