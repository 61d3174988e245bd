#!/usr/bin/env Rscript
# Reference values for the median follow-up of dossier's follow-up and maturity section
# (dossier/endpoints/km.py median_followup, shown by dossier/render/maturity.py), computed with
# the `survival` package, independently of dossier's code: the reverse Kaplan-Meier median
#   quantile(survfit(Surv(time, 1 - event) ~ 1, conf.type = T), 0.5, conf.int = TRUE)
# for PFS and OS of six cohorts of the demo registry (data/demo_followup/demo_cohorts.csv, written
# by `dossier demo` with its default seed), with conf.type "log-log" (dossier's default) and "log".
# A median R cannot estimate is null; the number of censored patients is given beside it.
#
# Usage:   Rscript tests/reference/followup_oracle.R
# Writes:  tests/reference/followup_expected.json (next to this script), byte for byte the same
#          on every run. Needs only base R and `survival`.

suppressPackageStartupMessages(library(survival))

script_dir <- local({
  a <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  if (length(a)) dirname(normalizePath(sub("^--file=", "", a[1]))) else getwd()
})
data_file <- file.path(script_dir, "data", "demo_followup", "demo_cohorts.csv")
out_file <- file.path(script_dir, "followup_expected.json")
DAYS_PER_MONTH <- 365.25 / 12

num <- function(v) {
  if (is.na(v) || !is.finite(v)) return("null")
  for (d in 15:17) { s <- sprintf(paste0("%.", d, "g"), v); if (as.numeric(s) == v) return(s) }
  s
}
str <- function(v) paste0("\"", gsub("\"", "\\\\\"", v), "\"")

d <- read.csv(data_file, stringsAsFactors = FALSE, check.names = FALSE)
cohorts <- unique(d$cohort_id)
items <- character(0)
for (cohort in cohorts) {
  rows <- d[d$cohort_id == cohort, , drop = FALSE]
  for (endpoint in c("pfs", "os")) {
    time <- rows[[paste0(endpoint, "_days")]]
    event <- rows[[paste0(endpoint, "_event")]]
    for (conf_type in c("log-log", "log")) {
      fit <- survfit(Surv(time, 1 - event) ~ 1, conf.type = conf_type)
      q <- quantile(fit, probs = 0.5, conf.int = TRUE)
      months <- function(x) unname(x) / DAYS_PER_MONTH
      items <- c(items, paste0(
        "    {\"cohort_id\": ", str(cohort), ", \"endpoint\": ", str(endpoint),
        ", \"conf_type\": ", str(conf_type), ", \"n\": ", length(time),
        ", \"censored\": ", sum(event == 0),
        ", \"median_months\": ", num(months(q$quantile)),
        ", \"lower_months\": ", num(months(q$lower)),
        ", \"upper_months\": ", num(months(q$upper)), "}"))
    }
  }
}
writeLines(c("{",
             paste0("  \"r_version\": ", str(paste(R.version$major, R.version$minor, sep = ".")), ","),
             paste0("  \"survival_version\": ", str(as.character(packageVersion("survival"))), ","),
             "  \"dataset\": \"reference/data/demo_followup/demo_cohorts.csv\",",
             "  \"followup\": [", paste(items, collapse = ",\n"), "  ]", "}"), out_file)
