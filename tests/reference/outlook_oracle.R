#!/usr/bin/env Rscript
# Reference values for dossier/endpoints/predictive.py and tissue.py, computed with base R,
# independently of dossier's code:
#   * predictive: P(x + Y >= needed), Y ~ beta-binomial(planned - n, a + x, b + n - x), twice:
#       by_sum       = sum over y of choose(m, y) beta(a + x + y, b + n - x + m - y) / beta(a + x, b + n - x)
#       by_integral  = integrate(function(p) pbinom(r - 1, m, p, lower.tail = FALSE) *
#                                 dbeta(p, a + x, b + n - x), 0, 1)
#   * heterogeneity: fisher.test(cbind(x, n - x))$p.value (Fisher-Freeman-Halton for k x 2);
#   * hierarchical: p_i ~ Beta(m k, (1 - m) k), rho = 1 / (1 + k), m and rho uniform on (0, 1);
#       posterior means of m, rho, p_i and of k / (k + n_i) by nested adaptive integrate() over
#       (m, rho) of the beta-binomial likelihood.
# The counts are in this script (small hand-made cases and the demo registry's baskets) and
# written into the JSON, so the Python tests need nothing else.
#
# Usage:   Rscript tests/reference/outlook_oracle.R
# Writes:  tests/reference/outlook_expected.json (next to this script), the same on every run.

script_dir <- local({
  a <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  if (length(a)) dirname(normalizePath(sub("^--file=", "", a[1]))) else getwd()
})
out_file <- file.path(script_dir, "outlook_expected.json")

json_num <- function(x) vapply(x, function(v) {
  if (is.na(v) || !is.finite(v)) return("null")
  for (d in 15:17) { s <- sprintf(paste0("%.", d, "g"), v); if (as.numeric(s) == v) return(s) }
  s
}, "")
json_str <- function(x) vapply(x, function(v) paste0("\"", v, "\""), "")
to_json <- function(x, ind = 0) {
  pad <- strrep("  ", ind); pad1 <- strrep("  ", ind + 1)
  if (is.list(x)) {
    items <- vapply(x, to_json, "", ind = ind + 1)
    if (!is.null(names(x))) items <- paste0(json_str(names(x)), ": ", items)
    open <- if (is.null(names(x))) c("[", "]") else c("{", "}")
    return(paste0(open[1], "\n", paste0(pad1, items, collapse = ",\n"), "\n", pad, open[2]))
  }
  atom <- if (is.numeric(x)) json_num(x) else json_str(as.character(x))
  if (inherits(x, "AsIs") || length(x) != 1) paste0("[", paste(atom, collapse = ", "), "]")
  else atom
}

# ---------------------------------------------------------------- predictive probabilities
predictive_case <- function(x, n, planned, needed, a = 0.5, b = 0.5) {
  m <- planned - n
  y <- 0:m
  pmf <- choose(m, y) * beta(a + x + y, b + n - x + m - y) / beta(a + x, b + n - x)
  r <- needed - x
  by_sum <- if (r <= 0) 1 else if (r > m) 0 else sum(pmf[y >= r])
  by_integral <- if (r <= 0) 1 else if (r > m) 0 else
    integrate(function(p) pbinom(r - 1, m, p, lower.tail = FALSE) * dbeta(p, a + x, b + n - x),
              0, 1, rel.tol = 1e-12)$value
  list(x = x, n = n, planned = planned, needed = needed, prior_a = a, prior_b = b,
       by_sum = by_sum, by_integral = by_integral, pmf = I(pmf))
}
predictive <- list(
  predictive_case(3, 15, 24, 5),        # demo sotorasib KRAS p.G12C, stage-2 bar 5 of 24
  predictive_case(1, 15, 24, 5),        # its ORR >= 20% at 24 (5 responders)
  predictive_case(4, 12, 24, 5),        # demo selpercatinib RET fusion
  predictive_case(1, 17, 24, 5),
  predictive_case(0, 8, 24, 5),
  predictive_case(2, 21, 24, 5),
  predictive_case(5, 10, 24, 5),        # already reached
  predictive_case(0, 20, 24, 5),        # out of reach
  predictive_case(2, 14, 24, 15),       # ORR >= 60% at 24
  predictive_case(3, 10, 30, 9, 1, 1),  # uniform prior
  predictive_case(0, 0, 24, 5)          # nothing seen yet: prior predictive
)

# ---------------------------------------------------------------- heterogeneity
fisher_case <- function(x, n, label) {
  list(label = label, x = I(x), n = I(n), p_value = fisher.test(cbind(x, n - x))$p.value)
}
heterogeneity <- list(
  fisher_case(c(14, 1), c(24, 24), "demo BRAF p.V600E, clinical benefit"),
  fisher_case(c(8, 0), c(24, 24), "demo BRAF p.V600E, objective response"),
  fisher_case(c(45, 1), c(96, 4), "demo ERBB2 amplification, clinical benefit"),
  fisher_case(c(22, 0), c(96, 4), "demo ERBB2 amplification, objective response"),
  fisher_case(c(3, 1), c(15, 4), "demo KRAS p.G12C, clinical benefit"),
  fisher_case(c(1, 0), c(15, 4), "demo KRAS p.G12C, objective response"),
  fisher_case(c(3, 0), c(24, 8), "demo FGFR1-3 alteration, clinical benefit"),
  fisher_case(c(1, 0), c(24, 8), "demo FGFR1-3 alteration, objective response"),
  fisher_case(c(3, 7, 1, 0), c(10, 12, 9, 5), "four types"),
  fisher_case(c(2, 2, 2), c(8, 8, 8), "identical rates"),
  fisher_case(c(0, 6), c(6, 6), "all or nothing")
)

# ---------------------------------------------------------------- hierarchical model
loglik <- function(m, rho, x, n) {
  k <- (1 - rho) / rho
  s <- 0
  for (i in seq_along(x)) s <- s + lbeta(m * k + x[i], (1 - m) * k + n[i] - x[i]) - lbeta(m * k, (1 - m) * k)
  s
}
hierarchical_case <- function(x, n, label) {
  # the log likelihood's maximum on a coarse grid, so that exp() neither under- nor overflows
  g <- seq(0.005, 0.995, by = 0.01)
  top <- max(outer(g, g, Vectorize(function(m, r) loglik(m, r, x, n))))
  integral <- function(f) integrate(function(rho) vapply(rho, function(r)
    integrate(function(m) vapply(m, function(mm) exp(loglik(mm, r, x, n) - top) * f(mm, r), 0),
              0, 1, rel.tol = 1e-10)$value, 0), 0, 1, rel.tol = 1e-9)$value
  z <- integral(function(m, r) 1)
  types <- lapply(seq_along(x), function(i) {
    mean <- integral(function(m, r) { k <- (1 - r) / r; (m * k + x[i]) / (k + n[i]) }) / z
    shrink <- integral(function(m, r) { k <- (1 - r) / r; k / (k + n[i]) }) / z
    list(x = x[i], n = n[i], mean = mean, shrinkage = shrink)
  })
  list(label = label, x = I(x), n = I(n),
       basket_mean = integral(function(m, r) m) / z,
       rho_mean = integral(function(m, r) r) / z,
       types = types)
}
hierarchical <- list(
  hierarchical_case(c(14, 1), c(24, 24), "demo BRAF p.V600E, clinical benefit"),
  hierarchical_case(c(45, 1), c(96, 4), "demo ERBB2 amplification, clinical benefit"),
  hierarchical_case(c(3, 1), c(15, 4), "demo KRAS p.G12C, clinical benefit"),
  hierarchical_case(c(3, 0), c(24, 8), "demo FGFR1-3 alteration, clinical benefit"),
  hierarchical_case(c(2, 2, 2), c(8, 8, 8), "identical rates"),
  hierarchical_case(c(3, 7, 1, 0), c(10, 12, 9, 5), "four types")
)

out <- list(
  meta = list(generated_by = "tests/reference/outlook_oracle.R",
              r_version = R.version.string),
  predictive = predictive, heterogeneity = heterogeneity, hierarchical = hierarchical
)
writeLines(to_json(out), out_file)
