# The peer of `ketareport analyze`: the same analysis as a lean R script
# (read.csv, aggregate, t.test, qbeta, lme4::lmer), for bench/run.sh.
# Usage: Rscript bench/peer/analysis.R DATASET_DIR OUT_DIR
# Writes OUT_DIR/estimates.csv (the same rows as ketareport's).
args <- commandArgs(trailingOnly = TRUE)
patients <- read.csv(file.path(args[1], "patients.csv"), stringsAsFactors = FALSE, na.strings = c("", "NA"))
infusions <- read.csv(file.path(args[1], "infusions.csv"), stringsAsFactors = FALSE, na.strings = c("", "NA"))

stopifnot(!anyDuplicated(patients$patient_id), !anyDuplicated(infusions$infusion_id),
          all(infusions$patient_id %in% patients$patient_id))
analysis <- c("ketamine_dose_mg", "infusion_duration_min", "vas_pre", "vas_post")
analysed <- infusions[complete.cases(infusions[analysis]), ]
analysed$reduction <- analysed$vas_pre - analysed$vas_post
diagnosis <- gsub("[[:space:]_-]+", "_", tolower(trimws(patients$diagnosis)))
analysed$crps <- as.numeric(diagnosis[match(analysed$patient_id, patients$patient_id)] == "crps")

per_patient <- aggregate(cbind(reduction, crps) ~ patient_id, data = analysed, FUN = mean)
crps <- per_patient$reduction[per_patient$crps == 1]
other <- per_patient$reduction[per_patient$crps == 0]
row <- function(term, test, estimate = unname(test$estimate), n) {
  data.frame(analysis = "vas_reduction", term = term, estimate = estimate, std_error = test$stderr,
             statistic = unname(test$statistic), df = unname(test$parameter), p_value = test$p.value,
             conf_low = test$conf.int[1], conf_high = test$conf.int[2], n = n)
}
welch <- t.test(crps, other)
vas <- rbind(
  row("overall", t.test(per_patient$reduction), n = nrow(per_patient)),
  row("crps", t.test(crps), n = length(crps)),
  row("other", t.test(other), n = length(other)),
  row("difference", welch, estimate = unname(welch$estimate[1] - welch$estimate[2]), n = nrow(per_patient))
)

days <- patients$relief_duration_days
ongoing <- !is.na(patients$relief_ongoing) & tolower(patients$relief_ongoing) %in% c("true", "yes", "1")
relief <- do.call(rbind, lapply(list(lasting = c(7, TRUE), long = c(21, FALSE)), function(rule) {
  met <- if (rule[2]) days >= rule[1] else days > rule[1]
  evaluable <- !is.na(days) & (!ongoing | met)
  n <- sum(evaluable); x <- sum(met & evaluable)
  bounds <- qbeta(c(0.05, 0.95), x + 1, n - x + 1)
  data.frame(estimate = x / n, conf_low = bounds[1], conf_high = bounds[2], n = n, x = x)
}))

fit <- lme4::lmer(reduction ~ crps + (1 | patient_id), data = analysed, REML = TRUE)
lmm <- data.frame(term = c("intercept", "crps"), estimate = unname(lme4::fixef(fit)),
                  std_error = unname(sqrt(diag(as.matrix(vcov(fit))))), n = nrow(analysed))

dir.create(args[2], showWarnings = FALSE, recursive = TRUE)
write.csv(vas, file.path(args[2], "estimates.csv"), row.names = FALSE)
write.csv(cbind(term = rownames(relief), relief), file.path(args[2], "relief.csv"), row.names = FALSE)
write.csv(lmm, file.path(args[2], "mixed_model.csv"), row.names = FALSE)
