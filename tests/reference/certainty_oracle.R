#!/usr/bin/env Rscript
# Reference values for dossier/endpoints/certainty.py and pfs_ratio.py, computed with base R
# and the `survival` package, independently of dossier's code:
#   * rates:   binom.test(x, n)$conf.int (Clopper-Pearson) and the beta-binomial posterior
#              P(p >= t | x, n) = pbeta(t, x + a, n - x + b, lower.tail = FALSE) (<=: lower tail);
#   * medians: S(T) from summary(survfit(...), times = T, extend = TRUE) with its pointwise CI and
#              SE, the approximate posterior P(S(T) >= 1/2) = pnorm((log(-log(1/2)) - eta) / se_eta),
#              eta = log(-log S(T)), se_eta = se(S) / (S |log S|), and quantile(fit, .5, conf.int);
#   * PFS ratio: ratio = pfs_days / prior_pfs_days, the share with ratio >= threshold
#              (binom.test), and the median with its order-statistic CI: k = qbinom(alpha/2, n, 1/2),
#              [x(k), x(n - k + 1)], coverage 1 - 2 pbinom(k - 1, n, 1/2).
# The data are in this script (the `lung` and `veteran` data of the survival package, and small
# hand-made cases) and written into the JSON, so the Python tests need nothing else.
#
# Usage:   Rscript tests/reference/certainty_oracle.R
# Writes:  tests/reference/certainty_expected.json (next to this script), byte for byte the same
#          on every run. Needs only base R and `survival` (Debian: r-base-core, r-cran-survival).

suppressPackageStartupMessages(library(survival))

script_dir <- local({
  a <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  if (length(a)) dirname(normalizePath(sub("^--file=", "", a[1]))) else getwd()
})
out_file <- file.path(script_dir, "certainty_expected.json")
DAYS_PER_MONTH <- 365.25 / 12

# ---------------------------------------------------------------- JSON (as plain_oracle.R)
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

# ---------------------------------------------------------------- rates
rate_case <- function(x, n, threshold, direction = ">=", a = 0.5, b = 0.5, level = 0.95) {
  ci <- if (n > 0) binom.test(x, n, conf.level = level)$conf.int else c(NA, NA)
  upper_tail <- direction %in% c(">=", ">")
  post <- if (n > 0) pbeta(threshold, x + a, n - x + b, lower.tail = !upper_tail) else NA
  list(x = x, n = n, threshold = threshold, direction = direction, prior_a = a, prior_b = b,
       level = level, estimate = if (n > 0) x / n else NA, lower = ci[1], upper = ci[2],
       posterior = post)
}
rates <- list(
  rate_case(1, 5, 0.2),                    # estimate on the threshold, wide CI
  rate_case(3, 15, 0.2),                   # 20% exactly, n = 15
  rate_case(8, 35, 0.2),                   # 22.9% with a CI lower limit below 20%
  rate_case(0, 8, 0.1),                    # DRUP stage 1 closed: 0 of 8
  rate_case(8, 8, 0.6),                    # all responders
  rate_case(5, 24, 0.3),
  rate_case(14, 24, 0.2),                  # CI wholly above 20%
  rate_case(1, 40, 0.2),                   # CI wholly below 20%
  rate_case(2, 10, 0.1, "<="),
  rate_case(7, 24, 0.2, ">=", 1, 1),       # uniform prior
  rate_case(7, 24, 0.2, ">=", 0.5, 0.5, 0.9),
  rate_case(0, 0, 0.2))

# ---------------------------------------------------------------- medians through S(T)
surv_case <- function(id, time, event, thresholds, conf_type = "log-log", level = 0.95,
                      note = "") {
  fit <- survfit(Surv(time, event) ~ 1, conf.int = level, conf.type = conf_type)
  q <- quantile(fit, 0.5, conf.int = TRUE)
  at <- lapply(thresholds, function(t) {
    s <- summary(fit, times = t, extend = TRUE)
    S <- s$surv; se <- s$std.err
    post <- if (is.finite(S) && S > 0 && S < 1 && is.finite(se)) {
      eta <- log(-log(S)); se_eta <- se / (S * abs(log(S)))
      pnorm((log(-log(0.5)) - eta) / se_eta)
    } else NA
    list(threshold = t, surv = S, lower = s$lower, upper = s$upper, se_surv = se,
         n_risk = s$n.risk, posterior_at_least_half = post)
  })
  list(id = id, note = note, conf_type = conf_type, level = level,
       time = I(time), event = I(event),
       median = list(estimate = unname(q$quantile), lower = unname(q$lower),
                     upper = unname(q$upper)),
       at = at)
}
lung_months <- survival::lung$time / DAYS_PER_MONTH
lung_event <- as.integer(survival::lung$status == 2)
vet <- survival::veteran[survival::veteran$trt == 2, ]
surv <- list(
  surv_case("five_patients", c(1.0, 3.0, 6.01, 8.0, 9.5), c(1, 1, 1, 0, 0), c(3, 6, 6.01, 7),
            note = "a 5-patient cohort: median 6.01 with an upper limit not reached"),
  surv_case("plateau_at_half", c(1, 2, 3, 4), c(1, 1, 1, 1), c(1.5, 2, 2.4, 2.5, 2.7, 3),
            note = "S = 1/2 on [2, 3): R's median is the midpoint 2.5; S(2.7) = 1/2 still"),
  surv_case("step_across_half", c(1, 2, 3), c(1, 1, 1), c(1.5, 2, 2.5),
            note = "S steps from 2/3 to 1/3 at t = 2: the median is 2, S(2) = 1/3"),
  surv_case("half_by_product", 1:10, rep(1, 10), c(5, 5.5, 6),
            note = "S(5) = 1/2 as a product of fractions"),
  surv_case("beyond_follow_up", c(1, 2, 3, 4, 5, 6), c(1, 0, 0, 1, 0, 0), c(4, 9),
            note = "T = 9 lies after the last observation: S carried forward"),
  surv_case("censored_while_one", c(1, 2, 3, 4, 5, 6, 7, 8), c(0, 0, 1, 0, 1, 1, 0, 1),
            c(0.5, 1.5, 3, 8),
            note = "log-log CI undefined while S = 1 after a censoring, (1, 1) before t = 1"),
  surv_case("lung_os_months", lung_months, lung_event, c(6, 9, 10.2, 12, 24),
            note = "survival::lung, OS in months (days / 30.4375)"),
  surv_case("lung_os_months_log", lung_months, lung_event, c(6, 10.2), conf_type = "log",
            note = "as lung_os_months, conf.type = \"log\""),
  surv_case("veteran_trt2_days_90", vet$time, vet$status, c(30, 60, 90, 180), level = 0.9,
            note = "survival::veteran, treatment 2, days, 90% intervals"))

# ---------------------------------------------------------------- PFS ratio
order_ci <- function(x, level = 0.95) {
  n <- length(x); x <- sort(x)
  k <- qbinom((1 - level) / 2, n, 0.5)
  if (n == 0 || k == 0) return(list(lower = NA, upper = NA, lower_rank = NA, upper_rank = NA,
                                    coverage = NA))
  list(lower = x[k], upper = x[n - k + 1], lower_rank = k, upper_rank = n - k + 1,
       coverage = 1 - 2 * pbinom(k - 1, n, 0.5))
}
ratio_case <- function(id, pfs, prior, event, threshold = 1.3, share_threshold = 0.3,
                       level = 0.95) {
  known <- !is.na(prior) & prior > 0 & !is.na(pfs)
  ratio <- pfs[known] / prior[known]
  hit <- ratio >= threshold
  x <- sum(hit); n <- length(ratio)
  ci <- if (n > 0) binom.test(x, n, conf.level = level)$conf.int else c(NA, NA)
  cens <- event[known] != 1
  list(id = id, threshold = threshold, share_threshold = share_threshold, level = level,
       pfs_days = I(pfs), prior_pfs_days = I(prior), pfs_event = I(event),
       ratios = I(sort(ratio)), x = x, n = n, share_lower = ci[1], share_upper = ci[2],
       share_posterior = if (n > 0) pbeta(share_threshold, x + 0.5, n - x + 0.5,
                                          lower.tail = FALSE) else NA,
       median = if (n > 0) median(ratio) else NA, median_ci = order_ci(ratio, level),
       n_censored = sum(cens), n_censored_below = sum(cens & !hit))
}
ratios <- list(
  ratio_case("five_with_prior", c(120, 60, 200, 90, 130), c(100, 100, 100, 100, 100),
             c(1, 1, 0, 1, 1)),
  ratio_case("twelve_mixed",
             c(180, 45, 210, 60, 330, 95, 150, 400, 70, 120, 260, 88),
             c(100, 90, 120, 150, 100, NA, 110, 200, 140, 0, 130, 60),
             c(1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0)),
  ratio_case("twenty_four",
             c(56, 112, 84, 300, 168, 250, 40, 90, 365, 130, 75, 200,
               62, 180, 140, 95, 410, 48, 120, 220, 66, 150, 99, 310),
             c(100, 70, 90, 120, 80, 200, 60, 95, 300, 100, 110, 90,
               70, 100, 160, 80, 180, 75, 92, 130, 88, 115, 101, 140),
             c(1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0),
             share_threshold = 0.15),
  ratio_case("ninety_percent",
             c(56, 112, 84, 300, 168, 250, 40, 90, 365, 130),
             c(100, 70, 90, 120, 80, 200, 60, 95, 150, 100),
             c(1, 1, 1, 0, 1, 1, 1, 1, 0, 1), level = 0.9))

meta <- list(
  generated_by = "tests/reference/certainty_oracle.R",
  r_version = R.version.string,
  survival_version = packageDescription("survival")$Version,
  days_per_month = DAYS_PER_MONTH,
  null_means = "R returned NA (undefined / not reached) or a non-finite value",
  rates = "binom.test(x, n, conf.level = level)$conf.int; posterior = pbeta(threshold, x + prior_a, n - x + prior_b, lower.tail = direction is '<=')",
  surv = "fit <- survfit(Surv(time, event) ~ 1, conf.int = level, conf.type = conf_type); summary(fit, times = T, extend = TRUE) (se_surv = its std.err); posterior_at_least_half = pnorm((log(-log(0.5)) - log(-log(S))) / (se_surv / (S * abs(log(S))))); median = quantile(fit, 0.5, conf.int = TRUE)",
  ratios = "ratio = pfs_days / prior_pfs_days where prior_pfs_days > 0; share = binom.test(sum(ratio >= threshold), n); share_posterior = pbeta(share_threshold, x + 0.5, n - x + 0.5, lower.tail = FALSE); median_ci: k = qbinom((1 - level) / 2, n, 0.5), [sort(ratio)[k], sort(ratio)[n - k + 1]], coverage = 1 - 2 * pbinom(k - 1, n, 0.5)")

writeLines(to_json(list(meta = meta, rates = rates, surv = surv, ratios = ratios)), out_file)
cat("wrote", out_file, ":", length(rates), "rates,", length(surv), "curves,", length(ratios),
    "PFS-ratio cases\n")
