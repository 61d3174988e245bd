#!/usr/bin/env Rscript
# Reference ("oracle") values for oncology endpoints, computed with R's
# `survival` package (Kaplan-Meier) and `stats::binom.test` (Clopper-Pearson).
#
# Usage (from anywhere):   Rscript tests/reference/oracle.R
# Reads   <this folder>/data/**.csv      (tests/reference/data/ in the dossier repository)
# Writes  <this folder>/expected.json    (tests/reference/expected.json)
# Produced with R 4.2.2 and survival 3.5-3; the tests read expected.json, not R.
#
# Needs only base R and the `survival` package (Debian: r-base-core,
# r-cran-survival).  No other packages: the JSON writer is below, so that
# every double is written with enough digits to round-trip exactly.
#
# Every analysis reads the same CSV files that the Python tool is tested on,
# so both sides see identical input values.

suppressPackageStartupMessages(library(survival))

# ---------------------------------------------------------------- locations
script_dir <- local({
  a <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  if (length(a)) dirname(normalizePath(sub("^--file=", "", a[1]))) else getwd()
})
data_dir <- file.path(script_dir, "data")
out_file <- file.path(script_dir, "expected.json")
# paths written into the JSON are relative to the repository's tests/ folder
rel <- function(p) file.path("reference", "data", p)

DAYS_PER_MONTH <- 365.25 / 12   # 30.4375
CONF_LEVEL <- 0.95
CONF_TYPES <- c("log", "log-log")

# ---------------------------------------------------------------- tiny JSON writer
# - named list -> object, unnamed list -> array
# - atomic length 1 -> scalar, unless wrapped in I() (then always an array)
# - NA / NaN / +-Inf -> null
json_num <- function(x) {
  vapply(x, function(v) {
    if (is.na(v) || !is.finite(v)) return("null")
    for (d in 15:17) {
      s <- sprintf(paste0("%.", d, "g"), v)
      if (as.numeric(s) == v) return(s)
    }
    s
  }, "")
}
json_str <- function(x) {
  vapply(x, function(v) {
    if (is.na(v)) return("null")
    v <- gsub("\\\\", "\\\\\\\\", v)
    v <- gsub("\"", "\\\\\"", v)
    v <- gsub("\n", "\\\\n", v)
    v <- gsub("\t", "\\\\t", v)
    paste0("\"", v, "\"")
  }, "")
}
json_atom <- function(x) {
  if (is.logical(x)) ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  else if (is.numeric(x)) json_num(x)
  else json_str(as.character(x))
}
to_json <- function(x, ind = 0) {
  pad <- strrep("  ", ind); pad1 <- strrep("  ", ind + 1)
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    items <- vapply(x, to_json, "", ind = ind + 1)
    if (!is.null(names(x))) {
      items <- paste0(json_str(names(x)), ": ", items)
      return(paste0("{\n", paste0(pad1, items, collapse = ",\n"), "\n", pad, "}"))
    }
    return(paste0("[\n", paste0(pad1, items, collapse = ",\n"), "\n", pad, "]"))
  }
  as_array <- inherits(x, "AsIs") || length(x) != 1
  x <- unclass(x)
  if (!as_array) return(json_atom(x))
  paste0("[", paste(json_atom(x), collapse = ", "), "]")
}

json_object <- function(x) if (length(x)) x else setNames(list(), character(0))

# ---------------------------------------------------------------- data access
read_data <- function(path) {
  # only empty cells are missing; the literal string "NA" is kept as a value
  read.csv(file.path(data_dir, path), stringsAsFactors = FALSE,
           na.strings = "", check.names = FALSE)
}
apply_filter <- function(d, filter) {
  keep <- rep(TRUE, nrow(d))
  for (col in names(filter)) keep <- keep & !is.na(d[[col]]) & d[[col]] %in% filter[[col]]
  d[keep, , drop = FALSE]
}

# ---------------------------------------------------------------- Kaplan-Meier
# One cohort: time (analysis units), event (0/1).
km_block <- function(time, event, fixed_times, fixed_labels) {
  stopifnot(!anyNA(time), !anyNA(event), all(event %in% c(0, 1)))
  res <- list(n = length(time), n_events = sum(event), n_censored = sum(event == 0),
              max_time = max(time), max_event_time = if (any(event == 1)) max(time[event == 1]) else NA)

  fits <- lapply(CONF_TYPES, function(ct)
    survfit(Surv(time, event) ~ 1, conf.int = CONF_LEVEL, conf.type = ct))
  names(fits) <- CONF_TYPES

  # quantiles (the median is probs = 0.5): time where S(t) first reaches 1 - p
  q <- list()
  for (ct in CONF_TYPES) {
    qq <- quantile(fits[[ct]], probs = c(0.25, 0.5, 0.75), conf.int = TRUE)
    q[[ct]] <- list(
      median = list(estimate = unname(qq$quantile[2]), lower = unname(qq$lower[2]), upper = unname(qq$upper[2])),
      p25    = list(estimate = unname(qq$quantile[1]), lower = unname(qq$lower[1]), upper = unname(qq$upper[1])),
      p75    = list(estimate = unname(qq$quantile[3]), lower = unname(qq$lower[3]), upper = unname(qq$upper[3])))
  }
  res$median <- list(estimate = q[["log"]]$median$estimate,
                     ci = lapply(q, function(z) z$median[c("lower", "upper")]))
  res$quantiles <- list(
    p25 = list(estimate = q[["log"]]$p25$estimate, ci = lapply(q, function(z) z$p25[c("lower", "upper")])),
    p75 = list(estimate = q[["log"]]$p75$estimate, ci = lapply(q, function(z) z$p75[c("lower", "upper")])))

  # fixed time points: summary(..., times =, extend = TRUE)
  at <- list()
  for (i in seq_along(fixed_times)) {
    t <- fixed_times[i]
    row <- list(label = fixed_labels[i], time = t)
    ci <- list()
    for (ct in CONF_TYPES) {
      s <- summary(fits[[ct]], times = t, extend = TRUE)
      if (ct == "log") {
        row$n_risk <- s$n.risk
        row$n_event_cum <- sum(event == 1 & time <= t)
        row$n_censor_cum <- sum(event == 0 & time <= t)
        row$surv <- s$surv
        row$se_surv <- s$std.err
        row$beyond_last_observation <- t > max(time)
      }
      ci[[ct]] <- list(lower = s$lower, upper = s$upper)
    }
    row$ci <- ci
    at[[i]] <- row
  }
  res$at_times <- at

  # the whole step function, one entry per distinct observed time
  f <- fits[["log"]]; g <- fits[["log-log"]]
  res$curve <- list(
    time = I(f$time), n_risk = I(f$n.risk), n_event = I(f$n.event), n_censor = I(f$n.censor),
    surv = I(f$surv), se_log_surv = I(f$std.err), se_surv = I(f$std.err * f$surv),
    lower_log = I(f$lower), upper_log = I(f$upper),
    lower_loglog = I(g$lower), upper_loglog = I(g$upper))
  res
}

km_spec <- function(id, dataset, description, filter, time_column, event_column,
                    event_values, time_unit = "days", fixed = NULL) {
  if (is.null(fixed)) {
    fixed <- if (time_unit == "days")
      list(times = c(90, 180, 365, 3 * DAYS_PER_MONTH, 6 * DAYS_PER_MONTH, 12 * DAYS_PER_MONTH, 24 * DAYS_PER_MONTH),
           labels = c("90d", "180d", "365d", "3mo", "6mo", "12mo", "24mo"))
    else list(times = c(3, 6, 12, 24), labels = c("3mo", "6mo", "12mo", "24mo"))
  }
  list(id = id, dataset = dataset, description = description, filter = filter,
       time_column = time_column, event_column = event_column, event_values = event_values,
       time_unit = time_unit,
       time_divisor = if (time_unit == "months") DAYS_PER_MONTH else 1,
       fixed_times = fixed)
}

run_km <- function(spec) {
  d <- apply_filter(read_data(spec$dataset), spec$filter)
  time <- d[[spec$time_column]] / spec$time_divisor
  event <- as.integer(d[[spec$event_column]] %in% spec$event_values)
  out <- spec
  out$dataset <- rel(spec$dataset)
  out$fixed_times <- NULL
  out$filter <- json_object(lapply(spec$filter, I))
  out$event_values <- I(spec$event_values)
  c(out, km_block(time, event, spec$fixed_times$times, spec$fixed_times$labels))
}

# ---------------------------------------------------------------- cohorts
S <- list()
add <- function(...) S[[length(S) + 1]] <<- km_spec(...)
by_values <- function(prefix, dataset, desc, base_filter, col, values, ...) {
  add(paste0(prefix, "_all"), dataset, paste(desc, "- all"), base_filter, ...)
  for (v in values) {
    f <- base_filter; f[[col]] <- v
    add(paste0(prefix, "_", col, "_", gsub("[^A-Za-z0-9_]+", "", as.character(v))), dataset,
        paste0(desc, " - ", col, " = ", v), f, ...)
  }
}

# R survival package (real trial data; myeloid is simulated)
by_values("lung_os", "r_survival/lung.csv", "NCCTG lung: overall survival",
          list(), "sex", c(1, 2), "time", "status", 2)
for (e in 0:3) add(paste0("lung_os_ph.ecog_", e), "r_survival/lung.csv",
                   paste0("NCCTG lung: overall survival - ph.ecog = ", e),
                   list(ph.ecog = e), "time", "status", 2)
add("lung_os_all_months", "r_survival/lung.csv",
    "NCCTG lung: overall survival - all, time in months (days / 30.4375)",
    list(), "time", "status", 2, time_unit = "months")
by_values("veteran_os", "r_survival/veteran.csv", "VA lung: overall survival",
          list(), "trt", c(1, 2), "time", "status", 1)
for (ctp in c("squamous", "smallcell", "adeno", "large"))
  add(paste0("veteran_os_celltype_", ctp), "r_survival/veteran.csv",
      paste0("VA lung: overall survival - celltype = ", ctp),
      list(celltype = ctp), "time", "status", 1)
by_values("colon_rfs", "r_survival/colon.csv", "Colon: time to recurrence (etype = 1)",
          list(etype = 1), "rx", c("Obs", "Lev", "Lev+5FU"), "time", "status", 1)
by_values("colon_os", "r_survival/colon.csv", "Colon: overall survival (etype = 2)",
          list(etype = 2), "rx", c("Obs", "Lev", "Lev+5FU"), "time", "status", 1)
by_values("ovarian_os", "r_survival/ovarian.csv", "Ovarian: overall survival",
          list(), "rx", c(1, 2), "futime", "fustat", 1)
by_values("myeloid_os", "r_survival/myeloid.csv", "AML (simulated): overall survival",
          list(), "trt", c("A", "B"), "futime", "death", 1)
by_values("gbsg_rfs", "r_survival/gbsg.csv", "GBSG breast: recurrence-free survival",
          list(), "hormon", c(0, 1), "rfstime", "status", 1)

# pharmaverseadam ADTTE (event = CNSR 0)
for (p in c("OS", "PFS", "RSD"))
  by_values(paste0("pharmaverse_", tolower(p)), "pharmaverseadam/adtte_onco.csv",
            paste0("pharmaverseadam adtte_onco: PARAMCD = ", p),
            list(PARAMCD = p), "ARMCD", c("Pbo", "Xan_Lo", "Xan_Hi"), "AVAL", "CNSR", 0)
# random.cdisc.data ADTTE (synthetic; event = CNSR 0)
for (p in c("OS", "PFS", "EFS", "CRSD"))
  by_values(paste0("cadtte_", tolower(p)), "random_cdisc_data/cadtte.csv",
            paste0("random.cdisc.data cadtte: PARAMCD = ", p),
            list(PARAMCD = p), "ARMCD", c("ARM A", "ARM B", "ARM C"), "AVAL", "CNSR", 0)
by_values("cadtte_pfs_months", "random_cdisc_data/cadtte.csv",
          "random.cdisc.data cadtte: PARAMCD = PFS, time in months (days / 30.4375)",
          list(PARAMCD = "PFS"), "ARMCD", c("ARM A", "ARM B", "ARM C"), "AVAL", "CNSR", 0,
          time_unit = "months")

km_results <- lapply(S, run_km)

# ---------------------------------------------------------------- rates (Clopper-Pearson)
cp <- function(x, n) {
  if (n == 0) return(list(estimate = NA, lower = NA, upper = NA))
  b <- binom.test(x, n, conf.level = CONF_LEVEL)
  list(estimate = x / n, lower = b$conf.int[1], upper = b$conf.int[2])
}
rate_spec <- function(id, dataset, description, filter, numerator, subject_column = NULL)
  list(id = id, dataset = dataset, description = description, filter = filter,
       numerator = numerator, subject_column = subject_column)
run_rate <- function(spec) {
  d <- apply_filter(read_data(spec$dataset), spec$filter)
  if (!is.null(spec$subject_column))
    stopifnot(!anyDuplicated(d[[spec$subject_column]]))   # one row per subject
  col <- d[[spec$numerator$column]]
  hit <- if (spec$numerator$op == "in") !is.na(col) & col %in% spec$numerator$values else !is.na(col)
  out <- spec
  out$dataset <- rel(spec$dataset)
  out$filter <- json_object(lapply(spec$filter, I))
  if (!is.null(spec$numerator$values)) out$numerator$values <- I(spec$numerator$values)
  c(out, list(x = sum(hit), n = nrow(d)), cp(sum(hit), nrow(d)))
}
R <- list()
radd <- function(...) R[[length(R) + 1]] <<- rate_spec(...)
ARMS_PV <- c("Pbo", "Xan_Lo", "Xan_Hi")
pv_rates <- list(
  orr  = list(param = "BOR",  num = list(column = "AVALC", op = "in", values = c("CR", "PR")),
              what = "ORR: best overall response CR or PR (confirmation not required)"),
  dcr  = list(param = "BOR",  num = list(column = "AVALC", op = "in", values = c("CR", "PR", "SD", "NON-CR/NON-PD")),
              what = "Disease control: BOR in CR, PR, SD, NON-CR/NON-PD"),
  corr = list(param = "CBOR", num = list(column = "AVALC", op = "in", values = c("CR", "PR")),
              what = "Confirmed ORR: confirmed BOR CR or PR"),
  cb   = list(param = "CB",   num = list(column = "AVALC", op = "in", values = "Y"),
              what = "Clinical benefit rate (PARAMCD CB = Y)"),
  ccb  = list(param = "CCB",  num = list(column = "AVALC", op = "in", values = "Y"),
              what = "Confirmed clinical benefit rate (PARAMCD CCB = Y)"))
for (nm in names(pv_rates)) {
  r <- pv_rates[[nm]]
  radd(paste0("pharmaverse_", nm, "_randomized"), "pharmaverseadam/adrs_onco.csv",
       paste0(r$what, " - all randomized (ARMCD != Scrnfail)"),
       list(PARAMCD = r$param, ARMCD = ARMS_PV), r$num, "USUBJID")
  for (a in ARMS_PV)
    radd(paste0("pharmaverse_", nm, "_ARMCD_", a), "pharmaverseadam/adrs_onco.csv",
         paste0(r$what, " - ARMCD = ", a), list(PARAMCD = r$param, ARMCD = a), r$num, "USUBJID")
}
radd("pharmaverse_orr_bor_not_missing", "pharmaverseadam/adrs_onco.csv",
     "ORR among subjects whose BOR is not MISSING (at least one post-baseline overall response record)",
     list(PARAMCD = "BOR", AVALC = c("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE")),
     list(column = "AVALC", op = "in", values = c("CR", "PR")), "USUBJID")
for (a in c("all", "ARM A", "ARM B", "ARM C")) {
  f <- list(PARAMCD = "BESRSPI"); if (a != "all") f$ARMCD <- a
  tag <- gsub(" ", "", a)
  radd(paste0("cadrs_orr_", tag), "random_cdisc_data/cadrs.csv",
       paste0("random.cdisc.data cadrs: ORR from BESRSPI (CR or PR) - ", a), f,
       list(column = "AVALC", op = "in", values = c("CR", "PR")), "USUBJID")
  radd(paste0("cadrs_cr_", tag), "random_cdisc_data/cadrs.csv",
       paste0("random.cdisc.data cadrs: CR rate from BESRSPI - ", a), f,
       list(column = "AVALC", op = "in", values = "CR"), "USUBJID")
}
for (a in c("all", "A", "B")) {
  f <- if (a == "all") list() else list(trt = a)
  radd(paste0("myeloid_cr_", a), "r_survival/myeloid.csv",
       paste0("AML (simulated): complete response ever reached (crtime not missing) - trt ", a),
       f, list(column = "crtime", op = "not_missing"), "id")
}
for (s in c(1, 2))
  radd(paste0("lung_ecog01_sex_", s), "r_survival/lung.csv",
       paste0("NCCTG lung: proportion with ph.ecog in 0/1 among sex = ", s, " (rows with ph.ecog missing excluded)"),
       list(sex = s, ph.ecog = c(0, 1, 2, 3, 4)), list(column = "ph.ecog", op = "in", values = c(0, 1)))
rate_results <- lapply(R, run_rate)

# ---------------------------------------------------------------- edge cases
edge_km <- list(
  list(id = "edge_all_censored", note = "5 patients, nobody has the event: S(t) = 1, median not reached",
       time = c(3, 5, 7, 9, 11), event = c(0, 0, 0, 0, 0), fixed = c(0, 2, 5, 11, 20)),
  list(id = "edge_ties_event_and_censor", note = paste(
         "Events and censorings tied at t = 2 and t = 4. A censoring at t counts as at risk at t.",
         "By hand: S(1)=9/10=0.9; S(2)=0.9*7/9=0.7; S(4)=0.7*4/5=0.56; S(5)=0.56*2/3=0.37333; S(7)=0; median = 5"),
       time = c(1, 2, 2, 2, 3, 4, 4, 5, 6, 7), event = c(1, 1, 1, 0, 0, 1, 0, 1, 0, 1), fixed = c(1, 2, 3, 4, 4.5, 5, 6.5, 7, 8)),
  list(id = "edge_single_patient_event", note = "One patient, event at t = 10: S drops 1 -> 0; median = 10, CI undefined",
       time = 10, event = 1, fixed = c(5, 10, 15)),
  list(id = "edge_single_patient_censored", note = "One patient, censored at t = 10: median not reached",
       time = 10, event = 0, fixed = c(5, 10, 15)),
  list(id = "edge_median_not_reached", note = paste(
         "10 patients, events at 1..4, censored at 5..10: S ends at 0.6, median not reached,",
         "but the lower CI curve crosses 0.5, so the median CI has a finite lower limit and no upper limit"),
       time = 1:10, event = c(1, 1, 1, 1, 0, 0, 0, 0, 0, 0), fixed = c(2, 4, 10)),
  list(id = "edge_median_plateau_at_half", note = paste(
         "4 patients, events at 1,2,3,4: S = 0.75, 0.5, 0.25, 0. S equals 0.5 exactly on [2,3):",
         "R reports the midpoint 2.5 (and 1.5 / 3.5 for the 25th / 75th percentiles)"),
       time = 1:4, event = c(1, 1, 1, 1), fixed = c(1, 2, 2.5, 3, 4)),
  list(id = "edge_median_half_by_product", note = paste(
         "10 patients, events at 1..10: S(5) = 9/10*8/9*7/8*6/7*5/6 = 0.5 only up to rounding;",
         "R treats values within sqrt(machine eps) of 0.5 as equal and reports 5.5"),
       time = 1:10, event = rep(1, 10), fixed = c(5, 6)),
  list(id = "edge_curve_ends_at_half", note = paste(
         "4 patients: events at 1 and 2, censored at 3 and 4. S = 0.5 from t = 2 to the end of follow-up;",
         "R reports the median as the midpoint of 2 and the last follow-up time: (2 + 4) / 2 = 3"),
       time = 1:4, event = c(1, 1, 0, 0), fixed = c(2, 4, 5)))
edge_km_results <- lapply(edge_km, function(e)
  c(list(id = e$id, note = e$note, time = I(e$time), event = I(e$event), time_unit = "days"),
    km_block(e$time, e$event, e$fixed, paste0("t=", e$fixed))))

edge_rates <- list(c(0, 10), c(10, 10), c(1, 1), c(0, 1), c(7, 20), c(1, 306), c(0, 0))
edge_rate_results <- lapply(edge_rates, function(xn)
  c(list(id = sprintf("edge_rate_%d_of_%d", xn[1], xn[2]), x = xn[1], n = xn[2]), cp(xn[1], xn[2]),
    if (xn[2] == 0) list(note = "n = 0: binom.test refuses; rate and CI are undefined") else NULL))

# ---------------------------------------------------------------- BOR reference (copied, not computed)
adrs <- read_data("pharmaverseadam/adrs_onco.csv")
bor_subjects <- sort(unique(adrs$USUBJID[adrs$PARAMCD == "OVR"]))
bor_ref <- lapply(bor_subjects, function(s) {
  d <- adrs[adrs$USUBJID == s, ]
  ovr <- d[d$PARAMCD == "OVR", ]
  ovr <- ovr[order(ovr$ADT), ]
  days <- as.numeric(as.Date(ovr$ADT) - as.Date(ovr$RANDDT))
  pick <- function(p) { v <- d$AVALC[d$PARAMCD == p]; if (length(v)) v[1] else NA }
  list(USUBJID = s, ARMCD = d$ARMCD[1], RANDDT = d$RANDDT[1],
       ovr = list(AVISIT = I(ovr$AVISIT), ADT = I(ovr$ADT), days_from_RANDDT = I(days),
                  AVALC = I(ovr$AVALC), ANL01FL = I(ovr$ANL01FL), ANL02FL = I(ovr$ANL02FL)),
       derived = list(BOR = pick("BOR"), CBOR = pick("CBOR"), RSP = pick("RSP"), CRSP = pick("CRSP"),
                      CB = pick("CB"), CCB = pick("CCB"), PD = pick("PD"), MDIS = pick("MDIS")))
})
bor_counts <- lapply(c(ARMS_PV, "Scrnfail"), function(a) {
  v <- adrs$AVALC[adrs$PARAMCD == "BOR" & adrs$ARMCD == a]
  tb <- table(factor(v, levels = c("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE", "MISSING")))
  c(list(ARMCD = a, n = length(v)), as.list(setNames(as.integer(tb), names(tb))))
})

# ---------------------------------------------------------------- write
meta <- list(
  generated_by = "tests/reference/oracle.R",
  r_version = R.version.string,
  survival_version = packageDescription("survival")$Version,
  conf_level = CONF_LEVEL,
  days_per_month = DAYS_PER_MONTH,
  paths = "dataset paths are relative to the tests/ folder of the dossier repository",
  null_means = "R returned NA (undefined / not reached) or a non-finite value",
  km = list(
    call = "fit <- survfit(Surv(time, event) ~ 1, conf.int = 0.95, conf.type = CT)  with CT in 'log' (R default) and 'log-log'",
    event = "event = 1 when the event column's value is in event_values, else 0 (censored)",
    time = "time = time_column / time_divisor; time_unit says days or months (months = days / 30.4375)",
    median = paste("quantile(fit, probs = c(0.25, 0.5, 0.75), conf.int = TRUE).",
                   "Estimate = first time S(t) <= 1 - p; if S(t) equals 1 - p (within sqrt(.Machine$double.eps))",
                   "on an interval, the midpoint of that interval (up to the last follow-up time if S stays there).",
                   "CI lower limit = same rule applied to the lower confidence curve, upper limit = applied to the upper curve;",
                   "null = that curve never reaches 1 - p (not reached). The median estimate does not depend on conf.type; its CI does."),
    at_times = paste("summary(fit, times = t, extend = TRUE): S(t) is right-continuous (events at t are included);",
                     "n_risk = number with time >= t; se_surv = Greenwood standard error of S(t);",
                     "n_event_cum / n_censor_cum = events / censorings with time <= t (counted directly from the data).",
                     "beyond_last_observation = t later than every observed time (R carries S forward, n_risk = 0)."),
    curve = paste("One entry per distinct observed time (events and censorings) from the survfit object.",
                  "se_log_surv = fit$std.err (Greenwood SE of -log S); se_surv = se_log_surv * surv.",
                  "lower/upper_log and lower/upper_loglog = fit$lower / fit$upper for the two conf.types.",
                  "log: S*exp(-/+ z*se_log_surv), upper capped at 1, null where S = 0.",
                  "log-log: exp(-exp(log(-log S) -/+ z*se_log_surv/log S)), null where S = 0 or S = 1.")),
  rates = list(
    call = "binom.test(x, n, conf.level = 0.95)$conf.int  (exact Clopper-Pearson)",
    rows = "x = rows (after filter) whose numerator column value is in numerator values (op 'in') or is non-empty (op 'not_missing'); n = rows after filter",
    filter = "filter: every listed column must take one of the listed values (empty cells never match)"),
  bor_reference = paste("Values copied from pharmaverseadam adrs_onco (derived there by admiralonco templates),",
                        "not computed by this script; days_from_RANDDT = ADT - RANDDT in days."))

out <- list(meta = meta, km = km_results, rates = rate_results,
            edge_cases = list(km = edge_km_results, rates = edge_rate_results),
            bor_reference = list(subjects = bor_ref, bor_counts_by_arm = bor_counts))
writeLines(to_json(out), out_file)
cat("wrote", out_file, ":", length(km_results), "KM cohorts,", length(rate_results), "rates,",
    length(edge_km_results), "KM edge cases\n")
