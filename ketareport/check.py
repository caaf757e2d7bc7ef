"""``ketareport check``: what a dataset holds, in a few lines, before anything is computed or written."""

from __future__ import annotations

from collections.abc import Mapping

from .config import AnalysisOptions, StudyConfig
from .contract import COLUMN_LABELS, index_look_alikes
from .errors import CohortNotAsMeant
from .results import CohortSummary, ReliefSummary


def summary_lines(cohort: CohortSummary, relief: ReliefSummary, config: StudyConfig) -> list[str]:
    """Patients, infusions, exclusions by reason, groups, relief recorded, warnings, missing metadata, and
    whether the report will be marked DRAFT; from the summaries, so a dataset in a database engine gets the
    same lines as files."""
    options = config.analysis
    lines = [
        # Label, then count: "1 other diagnoses" would need the label's plural.
        f"patients: {cohort.n_patients} ({options.index_label} {cohort.n_index}, "
        f"{options.comparison_label.lower()} {cohort.n_comparison})",
        f"infusions: {cohort.n_infusions}, of which {cohort.n_infusions_analyzed} analysable",
    ]
    if cohort.n_infusions_excluded:
        reasons = ", ".join(f"{count} missing {COLUMN_LABELS[column]}"
                            for column, count in cohort.excluded_missing_by_column.items() if count)
        counted = sum(cohort.excluded_missing_by_column.values())
        if counted > cohort.n_infusions_excluded:
            reasons += f"; {counted} in all: an infusion missing several items is counted under each"
        lines.append(f"excluded for missing data: {cohort.n_infusions_excluded} infusions ({reasons})")
    else:
        lines.append("excluded for missing data: none")
    lines.append(f"patients with an analysable infusion: {cohort.n_patients_analyzed} of {cohort.n_patients}")
    lines.append("diagnoses: " + ", ".join(f"{cohort.diagnosis_labels[key]} {count}" for key, count in cohort.diagnoses.items()))
    lines.append(f"relief duration recorded: {relief.n_recorded} patients ({relief.n_censored} with relief ongoing at last contact)")
    lines.extend(f"warning: {warning}" for warning in cohort_warnings(cohort.diagnoses, cohort.diagnosis_labels, options))
    missing_metadata = config.missing_metadata()
    lines.append("study.yml: complete" if not missing_metadata else f"study.yml lacks: {'; '.join(missing_metadata)}")
    lines.append(draft_status(config))
    return lines


def draft_status(config: StudyConfig) -> str:
    """Whether the rendered report will be a draft (DRAFT across every PDF page), and what would make it final.

    Final as :meth:`~ketareport.config.StudyConfig.is_final` decides, as the report's title page does.
    """
    status, missing = config.report.status, config.missing_metadata()
    if config.is_final():
        return "report.status: final — the report will be final (no DRAFT mark)"
    if status == "final":
        return "report.status: final, but the report will be a draft (DRAFT on every PDF page) until study.yml has what it lacks"
    needs = "set report.status: final in study.yml" + (" and add what it lacks" if missing else "")
    return f"report.status: {status} — the report will be a draft (DRAFT on every PDF page); {needs} for the version to submit"


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


def refuse_a_warned_cohort(cohort: CohortSummary, options: AnalysisOptions) -> None:
    """``render --strict``: a cohort whose index group is empty is not submitted (exit status 2).

    The report would compare no patient with all the others. Diagnoses that
    merely resemble the index one in the comparison group stay a warning
    (:func:`cohort_warnings`): CRPS type II among the other diagnoses against
    CRPS type I may be the design, and Table 1 lists every diagnosis of each
    group; were --strict to stop on them, such a study could never be
    submitted.
    """
    if options.index_diagnosis in cohort.diagnoses:
        return
    warnings = cohort_warnings(cohort.diagnoses, cohort.diagnosis_labels, options)
    raise CohortNotAsMeant("--strict: the cohort is probably not the one meant (recode the data or set "
                           "analysis.index_diagnosis):" + "".join(f"\n  - {warning}" for warning in warnings))
