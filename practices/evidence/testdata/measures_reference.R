# Reference values for the measures analysis, from R's base functions (median, qbinom, mean, rle) and
# qicharts2's runs.analysis written out below. Regenerate with:
#   Rscript practices/evidence/testdata/measures_reference.R > practices/evidence/testdata/measures_reference.tsv
set.seed(2026)
runs_analysis <- function(y, cl) { # as qicharts2:::runs.analysis
  runs <- sign(y - cl)
  runs <- runs[runs != 0 & !is.na(runs)]
  n.useful <- length(runs)
  if (n.useful == 0) return(c(0, 0, 0, 0, 0))
  run.lengths <- rle(runs)$lengths
  c(n.useful, max(run.lengths), round(log2(n.useful)) + 3, max(length(run.lengths) - 1, 0),
    qbinom(0.05, max(n.useful - 1, 0), 0.5))
}
cat("kind\tbaseline\ty\tn\tcenter\tn_useful\tlongest_run\tlongest_run_max\tcrossings\tcrossings_min\tcl\tlcl1\tucl1\n")
for (i in 1:400) {
  len <- sample(1:80, 1)
  shape <- sample(0:2, 1)
  if (shape == 0) {
    y <- sample(0:4, len, replace = TRUE)
  } else if (shape == 1) {
    y <- round(2 + rnorm(len) * 0.3 + runif(1) * 0.05 * (0:(len - 1)), 1)
  } else {
    y <- sample(0:100, len, replace = TRUE)
  }
  n <- sample(1:40, len, replace = TRUE)
  b <- if (runif(1) < 0.5) len else sample(1:len, 1)
  kind <- if (shape == 2) "percent" else "mean"
  center <- median(y[1:b])
  ra <- runs_analysis(y, center)
  if (kind == "mean") {
    cl <- mean(y[1:b])
    amr <- if (b > 1) mean(abs(diff(y[1:b]))) else NA
    lcl1 <- cl - 2.66 * amr
    ucl1 <- cl + 2.66 * amr
  } else {
    p <- y / 100
    pbar <- sum(p[1:b] * n[1:b]) / sum(n[1:b])
    s <- sqrt(pbar * (1 - pbar) / n[1])
    lcl1 <- max(0, pbar - 3 * s) * 100
    ucl1 <- min(1, pbar + 3 * s) * 100
    cl <- pbar * 100
  }
  cat(kind, b, paste(y, collapse = " "), paste(n, collapse = " "), format(center, digits = 15),
      ra, format(cl, digits = 15), format(lcl1, digits = 15), format(ucl1, digits = 15), sep = "\t")
  cat("\n")
}
