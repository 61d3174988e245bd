#!/usr/bin/env Rscript
# Reference values for DRUP's clinical benefit rate on the sponsors' ADaM data, computed in base R.
# Companion of tests/reference/oracle.R (Kaplan-Meier and rates), for the one rule those do not
# cover: clinical benefit = confirmed CR/PR, or stable disease lasting >= sd_weeks, where the
# duration of stable disease is the PFS time (ADTTE PARAMCD = "PFS", AVAL in days).
#
# For each data set, the clinical benefit rate among response-evaluable subjects (confirmed BOR
# present and not MISSING; screen failures left out) with binom.test's exact interval, at
# sd_weeks = 16 (DRUP's cut-off) and at cut-offs placed exactly on each stable subject's own PFS
# time (sd_weeks = AVAL / 7): there a ">=" rule and a ">" rule give different counts, and
# "on_boundary" says how many subjects sit exactly on the cut-off (AVAL == sd_weeks * 7 in
# floating point, as the Python side computes it).
#
# Stable disease: confirmed BOR SD or NON-CR/NON-PD (an unconfirmed CR/PR has confirmed BOR SD).
# pharmaverseadam: confirmed BOR = PARAMCD "CBOR"; random.cdisc.data: PARAMCD "BESRSPI".
#
# Usage:   Rscript tests/reference/response_oracle.R        (from any directory)
# Reads:   tests/reference/data/{pharmaverseadam,random_cdisc_data}/*.csv
# Writes:  tests/reference/response_expected.json (next to this script). Base R only.

script_dir <- local({
  a <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  if (length(a)) dirname(normalizePath(sub("^--file=", "", a[1]))) else getwd()
})
data_dir <- file.path(script_dir, "data")
out_file <- file.path(script_dir, "response_expected.json")
DAYS_PER_WEEK <- 7
DRUP_SD_WEEKS <- 16

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

read_data <- function(path) {
  # only empty cells are missing; the literal string "NA" is kept as a value
  read.csv(file.path(data_dir, path), stringsAsFactors = FALSE,
           na.strings = "", check.names = FALSE)
}

# ---------------------------------------------------------------- one data set
STUDIES <- list(
  list(id = "pharmaverse", adsl = "pharmaverseadam/adsl.csv", adrs = "pharmaverseadam/adrs_onco.csv",
       adtte = "pharmaverseadam/adtte_onco.csv", cbor = "CBOR"),
  list(id = "cadrs", adsl = "random_cdisc_data/cadsl.csv", adrs = "random_cdisc_data/cadrs.csv",
       adtte = "random_cdisc_data/cadtte.csv", cbor = "BESRSPI"))

study_rates <- function(s) {
  adsl <- read_data(s$adsl)
  treated <- adsl$USUBJID[adsl$ARMCD != "Scrnfail"]
  adrs <- read_data(s$adrs)
  cbor <- adrs[adrs$PARAMCD == s$cbor & adrs$USUBJID %in% treated, c("USUBJID", "AVALC")]
  stopifnot(!anyDuplicated(cbor$USUBJID))
  cbor <- cbor[!is.na(cbor$AVALC) & cbor$AVALC != "MISSING", ]
  adtte <- read_data(s$adtte)
  pfs <- adtte[adtte$PARAMCD == "PFS", c("USUBJID", "AVAL")]
  stopifnot(!anyDuplicated(pfs$USUBJID))
  d <- merge(cbor, pfs, by = "USUBJID", all.x = TRUE, sort = TRUE)
  response <- d$AVALC %in% c("CR", "PR")
  stable <- d$AVALC %in% c("SD", "NON-CR/NON-PD")
  cut_weeks <- c(DRUP_SD_WEEKS, sort(unique(d$AVAL[stable & !is.na(d$AVAL)])) / DAYS_PER_WEEK)
  rates <- lapply(cut_weeks, function(w) {
    sd_days <- w * DAYS_PER_WEEK
    benefit <- response | (stable & !is.na(d$AVAL) & d$AVAL >= sd_days)
    x <- sum(benefit); n <- nrow(d)
    ci <- binom.test(x, n, conf.level = 0.95)$conf.int
    list(sd_weeks = w, sd_days = sd_days,
         on_boundary = sum(stable & !is.na(d$AVAL) & d$AVAL == sd_days),
         x = x, n = n, estimate = x / n, lower = ci[1], upper = ci[2])
  })
  list(id = s$id, dataset_dir = dirname(file.path("reference", "data", s$adsl)),
       confirmed_bor_paramcd = s$cbor, n_evaluable = nrow(d),
       n_confirmed_response = sum(response), n_stable = sum(stable),
       clinical_benefit = rates)
}

out <- list(
  meta = list(
    generated_by = "tests/reference/response_oracle.R",
    r_version = R.version.string,
    paths = "dataset_dir is relative to the tests/ folder of the dossier repository",
    rule = paste("clinical benefit = confirmed BOR CR or PR, or confirmed BOR SD / NON-CR/NON-PD with",
                 "PFS AVAL >= sd_weeks * 7 days; denominator = treated subjects (ARMCD != Scrnfail)",
                 "whose confirmed BOR is present and not MISSING"),
    ci = "binom.test(x, n, conf.level = 0.95)$conf.int (exact Clopper-Pearson)"),
  studies = lapply(STUDIES, study_rates))
writeLines(to_json(out), out_file)
cat("wrote", out_file, "\n")
