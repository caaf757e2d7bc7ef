"""The analysis of ``docs/methods.md``, from a cohort to :class:`StudyResults`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .aggregates import VasAggregates, vas_aggregates
from .cohort import Cohort
from .config import AnalysisOptions
from .contract import ANALYSIS_COLUMNS, MIXED_MODEL_ANALYSIS, RELIEF_METHODS, VAS_ANALYSIS
from .describe import infusion_characteristics, patient_characteristics
from .results import (
    CohortSummary, Estimate, MixedModelResult, ReliefOutcome, ReliefSummary, StudyResults, VasResults,
)
from .statistics import (
    TestResult, one_sample_t, proportion_interval, random_intercept_reml_from_cells,
    two_sample_difference, wald_inference,
)
WITHIN_PATIENT_RESOLUTION = 1e-6
"""cm: reductions of one patient closer than this count as equal (see :func:`mixed_model`)."""


def analyze_cohort(cohort: Cohort) -> StudyResults:
    aggregates = vas_aggregates(cohort.patient_aggregates())
    return StudyResults(
        cohort=summarise_cohort(cohort),
        vas=vas_reduction(aggregates, cohort.options),
        relief=relief(cohort.patients, cohort.options),
        sensitivity=mixed_model(aggregates, cohort.options),
        patient_characteristics=patient_characteristics(cohort),
        infusion_characteristics=infusion_characteristics(cohort),
    )


def summarise_cohort(cohort: Cohort) -> CohortSummary:
    patients, infusions = cohort.patients, cohort.infusions
    n_patients = len(patients)
    diagnoses = patients["diagnosis"].value_counts().sort_index().sort_values(ascending=False, kind="stable")
    percent = (100.0 * diagnoses / n_patients) if n_patients else diagnoses.astype(float)
    excluded = infusions[infusions["excluded"]]
    analysed = patients["n_infusions_analyzed"] > 0
    n_index = int(patients["is_index"].sum())
    both_recorded = infusions["midazolam"].notna() & infusions["ondansetron"].notna()
    dates = infusions["infusion_date"].dropna()
    return CohortSummary(
        n_patients=n_patients,
        n_infusions=len(infusions),
        n_infusions_excluded=len(excluded),
        n_infusions_analyzed=int((~infusions["excluded"]).sum()),
        n_patients_analyzed=int(analysed.sum()),
        n_patients_not_analyzed=int((~analysed).sum()),
        n_patients_without_infusions=int((patients["n_infusions"] == 0).sum()),
        diagnoses={str(k): int(v) for k, v in diagnoses.items()},
        diagnoses_percent={str(k): float(v) for k, v in percent.items()},
        diagnosis_labels={str(k): cohort.diagnosis_labels[k] for k in diagnoses.index},
        excluded_infusion_ids=excluded["infusion_id"].astype(str).tolist(),
        excluded_missing_by_column={column: int(infusions.loc[infusions["excluded"], column].isna().sum()) for column in ANALYSIS_COLUMNS},
        not_analyzed_patient_ids=patients.loc[~analysed, "patient_id"].astype(str).tolist(),
        index_diagnosis=cohort.options.index_diagnosis,
        n_index=n_index,
        n_comparison=n_patients - n_index,
        index_percent=100.0 * n_index / n_patients if n_patients else None,
        comparison_percent=100.0 * (n_patients - n_index) / n_patients if n_patients else None,
        n_index_analyzed=int((analysed & patients["is_index"]).sum()),
        n_comparison_analyzed=int((analysed & ~patients["is_index"]).sum()),
        n_index_infusions_analyzed=int((~infusions["excluded"] & infusions["is_index"]).sum()),
        n_comparison_infusions_analyzed=int((~infusions["excluded"] & ~infusions["is_index"]).sum()),
        n_infusions_midazolam=int(infusions["midazolam"].fillna(False).astype(bool).sum()),
        n_infusions_ondansetron=int(infusions["ondansetron"].fillna(False).astype(bool).sum()),
        n_infusions_premedication_recorded=int(both_recorded.sum()),
        # fillna: a missing record is not "given" (a nullable .all() would skip it and call an empty column true).
        all_premedicated=bool(
            len(infusions) > 0 and infusions["midazolam"].eq(True).fillna(False).all()
            and infusions["ondansetron"].eq(True).fillna(False).all()
        ),
        first_infusion_date=dates.min().date().isoformat() if len(dates) else None,
        last_infusion_date=dates.max().date().isoformat() if len(dates) else None,
        side_effects_recorded=bool((infusions["side_effects"].astype(str) != "").any()),
    )


def _estimate(analysis: str, term: str, result: TestResult, conf_level: float) -> Estimate:
    has_interval = result.conf_low is not None
    return Estimate(
        analysis=analysis, term=term, estimate=result.estimate, std_error=result.std_error,
        statistic=result.statistic, df=result.df, p_value=result.p_value,
        conf_low=result.conf_low, conf_high=result.conf_high,
        conf_level=conf_level if has_interval else None, n=result.n,
    )


def vas_reduction(aggregates: VasAggregates, options: AnalysisOptions) -> VasResults:
    """One-sample t overall and per group on patient means, and the group difference."""
    level = options.conf_level
    return VasResults(
        overall=_estimate(VAS_ANALYSIS, "overall", one_sample_t(aggregates.overall, level), level),
        index=_estimate(VAS_ANALYSIS, options.index_diagnosis, one_sample_t(aggregates.index, level), level),
        comparison=_estimate(VAS_ANALYSIS, "other", one_sample_t(aggregates.comparison, level), level),
        difference=_estimate(
            VAS_ANALYSIS, "difference",
            two_sample_difference(aggregates.index, aggregates.comparison, level, options.difference_test), level,
        ),
        difference_test=options.difference_test,
        n_patients_improved=aggregates.n_patients_improved,
    )


def relief(patients: pd.DataFrame, options: AnalysisOptions) -> ReliefSummary:
    """Probability of relief meeting each threshold, over evaluable patients.

    Evaluable: duration recorded, and either relief is not ongoing or the
    recorded (censored) duration already meets the threshold.
    """
    duration = patients["relief_duration_days"].to_numpy(dtype=float)
    ongoing = patients["relief_ongoing"].to_numpy(dtype=bool)
    recorded = ~np.isnan(duration)
    outcomes = []
    for threshold in options.relief_thresholds:  # a handful of thresholds, not patients
        with np.errstate(invalid="ignore"):
            met = threshold.met(duration) & recorded
        evaluable = recorded & (~ongoing | met)
        n, x = int(evaluable.sum()), int((evaluable & met).sum())
        low, high = proportion_interval(x, n, options.relief_conf_level, options.relief_method)
        outcomes.append(ReliefOutcome(
            name=threshold.name, label=threshold.label, rule=threshold.rule, days=float(threshold.days),
            inclusive=threshold.inclusive, n_evaluable=n, x=x,
            n_censored_not_evaluable=int((recorded & ~evaluable).sum()),
            estimate=x / n if n else None, conf_low=low, conf_high=high,
            conf_level=options.relief_conf_level, method=options.relief_method,
        ))
    return ReliefSummary(
        n_recorded=int(recorded.sum()),
        n_censored=int((recorded & ongoing).sum()),
        n_not_recorded=int((~recorded).sum()),
        median_duration_days=float(np.median(duration[recorded])) if recorded.any() else None,
        method=options.relief_method,
        method_description=RELIEF_METHODS[options.relief_method].description,
        conf_level=options.relief_conf_level,
        outcomes=outcomes,
    )


def mixed_model(aggregates: VasAggregates, options: AnalysisOptions) -> MixedModelResult | None:
    """Sensitivity analysis on infusions: ``reduction ~ index + (1 | patient_id)``, REML, from the cells.

    None when it is switched off or not estimable: both groups need patients;
    the between-patient variance needs more patients than fixed effects (3 or
    more); the residual (within-patient) variance needs a patient whose
    analysed infusions differ in reduction (by more than 1e-6 cm: VAS is
    recorded to 0.1 cm, and 8.2 - 6.6 and 9.0 - 7.4 differ by 1e-15 only
    through floating point). Without that lme4 refuses the model (every
    patient with one infusion) or the REML fit degenerates (residual
    variance 0), so there is no model to report.
    """
    cells = aggregates.cells
    if not options.sensitivity_model or not cells:
        return None
    n_index = sum(cell.n_patients for cell in cells if cell.is_index)
    n_patients = sum(cell.n_patients for cell in cells)
    n_obs = sum(cell.n_patients * cell.n_infusions for cell in cells)
    within_patient_variation = any(cell.max_range > WITHIN_PATIENT_RESOLUTION for cell in cells)
    if n_index in (0, n_patients) or n_patients <= 2 or not within_patient_variation:
        return None
    fit = random_intercept_reml_from_cells(cells)
    standard_errors = np.sqrt(np.diag(fit.covariance))
    estimates = []
    for term, coefficient, std_error in zip(("intercept", options.index_diagnosis), fit.coefficients, standard_errors, strict=True):
        statistic, p_value, low, high = wald_inference(float(coefficient), float(std_error), options.conf_level)
        estimates.append(Estimate(
            MIXED_MODEL_ANALYSIS, term, float(coefficient), float(std_error), statistic, None, p_value,
            low, high, options.conf_level, n_obs,
        ))
    total = fit.variance_group + fit.variance_residual
    return MixedModelResult(
        n_infusions=n_obs,
        n_patients=n_patients,
        intercept=estimates[0],
        index=estimates[1],
        variance_patient=fit.variance_group,
        variance_residual=fit.variance_residual,
        intraclass_correlation=fit.variance_group / total if total > 0 else 0.0,
        reml_log_likelihood=fit.reml_log_likelihood,
        converged=fit.converged,
    )
