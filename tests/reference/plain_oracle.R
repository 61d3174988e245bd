#!/usr/bin/env Rscript
# Extra reference values for dossier's Kaplan-Meier code, computed with R's `survival` package.
# Companion of tests/reference/oracle.R (which covers conf.type "log" and "log-log" at 95%).
# This script adds, for a representative subset of the same cohorts plus small hand-made cases:
#   * conf.type = "plain" at 95% (S +/- z se(S), clipped to [0, 1]);
#   * all three conf.types ("log", "log-log", "plain") at 90%, to test the `level` argument;
#   * median follow-up by reverse Kaplan-Meier: quantile(survfit(Surv(time, 1 - event) ~ 1)).
#
# Usage:   Rscript tests/reference/plain_oracle.R [path/to/reference]
# Default: the folder of this script (tests/reference, whose data/ holds the CSVs).
# Writes:  tests/reference/plain_expected.json (next to this script).
# Needs only base R and `survival` (Debian: r-base-core, r-cran-survival). Deterministic.

suppressPackageStartupMessages(library(survival))

script_dir <- local({
  a <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  if (length(a)) dirname(normalizePath(sub("^--file=", "", a[1]))) else getwd()
})
args <- commandArgs(TRUE)
ref_dir <- if (length(args)) args[1] else script_dir
data_dir <- normalizePath(file.path(ref_dir, "data"), mustWork = TRUE)
out_file <- file.path(script_dir, "plain_expected.json")
rel <- function(p) file.path("reference", "data", p)   # relative to the tests/ folder

DAYS_PER_MONTH <- 365.25 / 12
FITS <- list(list(conf_type = "plain", conf_level = 0.95),
             list(conf_type = "log", conf_level = 0.90),
             list(conf_type = "log-log", conf_level = 0.90),
             list(conf_type = "plain", conf_level = 0.90))
FOLLOWUP <- list(list(conf_type = "log-log", conf_level = 0.95),
                 list(conf_type = "log", conf_level = 0.95))

# ---------------------------------------------------------------- JSON (as oracle.R)
# named list -> object, unnamed list -> array, length-1 atomic -> scalar unless I(),
# NA / NaN / +-Inf -> null; doubles with the fewest digits (15-17) that read back exactly.
json_num <- function(x) vapply(x, function(v) {
  if (is.na(v) || !is.finite(v)) return("null")
  for (d in 15:17) { s <- sprintf(paste0("%.", d, "g"), v); if (as.numeric(s) == v) return(s) }
  s
}, "")
json_str <- function(x) vapply(x, function(v) {
  if (is.na(v)) return("null")
  v <- gsub("\\\\", "\\\\\\\\", v); v <- gsub("\"", "\\\\\"", v)
  paste0("\"", v, "\"")
}, "")
json_atom <- function(x) {
  if (is.logical(x)) ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  else if (is.numeric(x)) json_num(x) else json_str(as.character(x))
}
to_json <- function(x, ind = 0) {
  pad <- strrep("  ", ind); pad1 <- strrep("  ", ind + 1)
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    items <- vapply(x, to_json, "", ind = ind + 1)
    if (!is.null(names(x))) items <- paste0(json_str(names(x)), ": ", items)
    open <- if (is.null(names(x))) c("[", "]") else c("{", "}")
    return(paste0(open[1], "\n", paste0(pad1, items, collapse = ",\n"), "\n", pad, open[2]))
  }
  as_array <- inherits(x, "AsIs") || length(x) != 1
  x <- unclass(x)
  if (!as_array) return(json_atom(x))
  paste0("[", paste(json_atom(x), collapse = ", "), "]")
}
json_object <- function(x) if (length(x)) x else setNames(list(), character(0))

# ---------------------------------------------------------------- data
read_data <- function(path) read.csv(file.path(data_dir, path), stringsAsFactors = FALSE,
                                     na.strings = "", check.names = FALSE)
apply_filter <- function(d, filter) {
  keep <- rep(TRUE, nrow(d))
  for (col in names(filter)) keep <- keep & !is.na(d[[col]]) & d[[col]] %in% filter[[col]]
  d[keep, , drop = FALSE]
}

# ---------------------------------------------------------------- one cohort
quantile_block <- function(fit) {
  qq <- quantile(fit, probs = c(0.25, 0.5, 0.75), conf.int = TRUE)
  one <- function(i) list(estimate = unname(qq$quantile[i]), lower = unname(qq$lower[i]),
                          upper = unname(qq$upper[i]))
  list(p25 = one(1), median = one(2), p75 = one(3))
}

km_block <- function(time, event, fixed_times) {
  stopifnot(!anyNA(time), !anyNA(event), all(event %in% c(0, 1)))
  fits <- lapply(FITS, function(f) {
    fit <- survfit(Surv(time, event) ~ 1, conf.int = f$conf_level, conf.type = f$conf_type)
    at <- lapply(fixed_times, function(t) {
      s <- summary(fit, times = t, extend = TRUE)
      list(time = t, surv = s$surv, se_surv = s$std.err, n_risk = s$n.risk,
           lower = s$lower, upper = s$upper)
    })
    c(f, quantile_block(fit),
      list(at_times = at,
           curve = list(time = I(fit$time), surv = I(fit$surv),
                        lower = I(fit$lower), upper = I(fit$upper))))
  })
  followup <- lapply(FOLLOWUP, function(f) {
    rev <- survfit(Surv(time, 1 - event) ~ 1, conf.int = f$conf_level, conf.type = f$conf_type)
    c(f, quantile_block(rev)$median)
  })
  list(n = length(time), n_events = sum(event), fits = fits, followup = followup)
}

fixed_for <- function(unit) if (unit == "days")
  c(90, 180, 365, 3 * DAYS_PER_MONTH, 6 * DAYS_PER_MONTH, 12 * DAYS_PER_MONTH, 24 * DAYS_PER_MONTH) else
  c(3, 6, 12, 24)

cohort <- function(id, dataset, filter, time_column, event_column, event_values, time_unit = "days") {
  divisor <- if (time_unit == "months") DAYS_PER_MONTH else 1
  d <- apply_filter(read_data(dataset), filter)
  time <- d[[time_column]] / divisor
  event <- as.integer(d[[event_column]] %in% event_values)
  c(list(id = id, dataset = rel(dataset), filter = json_object(lapply(filter, I)),
         time_column = time_column, time_divisor = divisor, time_unit = time_unit,
         event_column = event_column, event_values = I(event_values)),
    km_block(time, event, fixed_for(time_unit)))
}

# ---------------------------------------------------------------- cohorts (ids as in oracle.R)
LUNG <- "r_survival/lung.csv"; VET <- "r_survival/veteran.csv"; OVA <- "r_survival/ovarian.csv"
PV <- "pharmaverseadam/adtte_onco.csv"; CAD <- "random_cdisc_data/cadtte.csv"
km <- list(
  cohort("lung_os_all", LUNG, list(), "time", "status", 2),
  cohort("lung_os_sex_1", LUNG, list(sex = 1), "time", "status", 2),
  cohort("lung_os_sex_2", LUNG, list(sex = 2), "time", "status", 2),
  cohort("lung_os_ph.ecog_3", LUNG, list(ph.ecog = 3), "time", "status", 2),
  cohort("lung_os_all_months", LUNG, list(), "time", "status", 2, "months"),
  cohort("ovarian_os_all", OVA, list(), "futime", "fustat", 1),
  cohort("ovarian_os_rx_1", OVA, list(rx = 1), "futime", "fustat", 1),
  cohort("ovarian_os_rx_2", OVA, list(rx = 2), "futime", "fustat", 1),
  cohort("veteran_os_trt_1", VET, list(trt = 1), "time", "status", 1),
  cohort("veteran_os_trt_2", VET, list(trt = 2), "time", "status", 1),
  cohort("pharmaverse_pfs_all", PV, list(PARAMCD = "PFS"), "AVAL", "CNSR", 0),
  cohort("pharmaverse_pfs_ARMCD_Xan_Lo", PV, list(PARAMCD = "PFS", ARMCD = "Xan_Lo"), "AVAL", "CNSR", 0),
  cohort("pharmaverse_os_ARMCD_Xan_Hi", PV, list(PARAMCD = "OS", ARMCD = "Xan_Hi"), "AVAL", "CNSR", 0),
  cohort("pharmaverse_rsd_ARMCD_Xan_Hi", PV, list(PARAMCD = "RSD", ARMCD = "Xan_Hi"), "AVAL", "CNSR", 0),
  cohort("cadtte_os_ARMCD_ARMC", CAD, list(PARAMCD = "OS", ARMCD = "ARM C"), "AVAL", "CNSR", 0),
  cohort("cadtte_pfs_months_ARMCD_ARMA", CAD, list(PARAMCD = "PFS", ARMCD = "ARM A"), "AVAL", "CNSR", 0,
         "months"))

# ---------------------------------------------------------------- small cases (the oracle's eight, plus three)
edge <- list(
  list(id = "edge_all_censored", time = c(3, 5, 7, 9, 11), event = c(0, 0, 0, 0, 0), fixed = c(0, 2, 5, 11, 20)),
  list(id = "edge_ties_event_and_censor", time = c(1, 2, 2, 2, 3, 4, 4, 5, 6, 7),
       event = c(1, 1, 1, 0, 0, 1, 0, 1, 0, 1), fixed = c(1, 2, 3, 4, 4.5, 5, 6.5, 7, 8)),
  list(id = "edge_single_patient_event", time = 10, event = 1, fixed = c(5, 10, 15)),
  list(id = "edge_single_patient_censored", time = 10, event = 0, fixed = c(5, 10, 15)),
  list(id = "edge_median_not_reached", time = 1:10, event = c(1, 1, 1, 1, 0, 0, 0, 0, 0, 0), fixed = c(2, 4, 10)),
  list(id = "edge_median_plateau_at_half", time = 1:4, event = c(1, 1, 1, 1), fixed = c(1, 2, 2.5, 3, 4)),
  list(id = "edge_median_half_by_product", time = 1:10, event = rep(1, 10), fixed = c(5, 6)),
  list(id = "edge_curve_ends_at_half", time = 1:4, event = c(1, 1, 0, 0), fixed = c(2, 4, 5)),
  list(id = "edge_censored_before_first_event",
       note = "censorings at 1 and 2 while S = 1: log-log CI is NA there, but (1, 1) before t = 1",
       time = c(1, 2, 3, 4, 5, 6, 7, 8), event = c(0, 0, 1, 0, 1, 1, 0, 1), fixed = c(0, 0.5, 1, 2.5, 3, 8, 9)),
  list(id = "edge_event_at_time_zero", note = "an event on day 0: S < 1 from t = 0",
       time = c(0, 0, 1, 3, 3, 6, 9, 12), event = c(1, 0, 1, 1, 0, 1, 0, 1), fixed = c(0, 1, 2, 12, 13)),
  list(id = "edge_nearly_tied_times", note = "times 2 and 2 + 1e-10 are pooled by survfit's timefix (aeqSurv)",
       time = c(1, 2, 2 + 1e-10, 3, 4, 5), event = c(1, 1, 0, 1, 0, 1), fixed = c(2, 2 + 1e-10, 3)))
edge_out <- lapply(edge, function(e)
  c(list(id = e$id, note = if (is.null(e$note)) "same data as in tests/reference/oracle.R" else e$note,
         time = I(e$time), event = I(e$event)),
    km_block(e$time, e$event, e$fixed)))

meta <- list(
  generated_by = "tests/reference/plain_oracle.R",
  r_version = R.version.string,
  survival_version = packageDescription("survival")$Version,
  days_per_month = DAYS_PER_MONTH,
  paths = "dataset paths are relative to the tests/ folder of the dossier repository (as in tests/reference/expected.json)",
  null_means = "R returned NA (undefined / not reached) or a non-finite value",
  fits = paste("fit <- survfit(Surv(time, event) ~ 1, conf.int = conf_level, conf.type = conf_type);",
               "quantile(fit, c(.25, .5, .75), conf.int = TRUE); summary(fit, times = t, extend = TRUE)",
               "(se_surv = its std.err, the SE of S); curve = fit$time, fit$surv, fit$lower, fit$upper"),
  followup = "reverse Kaplan-Meier: quantile(survfit(Surv(time, 1 - event) ~ 1, conf.int = conf_level, conf.type = conf_type), 0.5)")

writeLines(to_json(list(meta = meta, km = km, edge_cases = edge_out)), out_file)
cat("wrote", out_file, ":", length(km), "cohorts,", length(edge_out), "small cases\n")
