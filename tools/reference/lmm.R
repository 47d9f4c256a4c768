#!/usr/bin/env Rscript
# Reference implementation of the workflow's LMMs in plain R (lme4 + lmerTest + emmeans), to check the pymer4
# route's numbers and to time it against the same fit.
# Usage: Rscript tools/reference/lmm.R [--check] DATA.tsv "FORMULA" OUT_PREFIX [TREND_VARIABLE BY]
# Exits with status 75 when this process's lme4 did not get CHOLMOD's default ordering: run it again
# (mimicry.rsession.run_in_fresh_r does; src/mimicry/lme4_ordering.R says why).
# Writes OUT_PREFIX_anova.tsv (type-III F tests, Satterthwaite df, sum-to-zero contrasts),
# OUT_PREFIX_trends.tsv (emtrends, when asked) and OUT_PREFIX_seconds.txt (fit + tests, wall seconds).
# --check: lme4's convergence advice done as the workflow does it (mimicry.lmm_checks), written independently of
# it and the slow way (lmerTest's own df, F and p for every refit): each of allFit's optimizers installed here
# restarted from the optimum, a singular fit's own optimizer once more from off the boundary (its SDs with every
# correlation 0); OUT_PREFIX_refits.tsv (optimizer, start, term, F, den_df, p, loglik) and OUT_PREFIX_verdict.txt
# (stable, or unstable and the terms whose test at the best log-likelihood, or whose F at it, prints otherwise).
suppressPackageStartupMessages({
  library(lmerTest)
  library(emmeans)
})
script <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE))
source(file.path(dirname(normalizePath(script)), "..", "..", "src", "mimicry", "lme4_ordering.R"))
if (!lme4_default_ordering()) quit(status = LME4_RETRY_STATUS)
args <- commandArgs(trailingOnly = TRUE)
check <- "--check" %in% args
args <- args[args != "--check"]
options(contrasts = c("contr.sum", "contr.poly"))
data <- read.delim(args[1], stringsAsFactors = TRUE)
started <- proc.time()
model <- lmer(as.formula(args[2]), data = data, REML = TRUE)
tests <- anova(model, type = 3, ddf = "Satterthwaite")
write.table(data.frame(term = rownames(tests), tests, check.names = FALSE), paste0(args[3], "_anova.tsv"),
            sep = "\t", quote = FALSE, row.names = FALSE)
if (length(args) >= 5) {
  trends <- as.data.frame(summary(emtrends(model, specs = args[5], var = args[4], lmer.df = "asymptotic"),
                                  infer = c(TRUE, TRUE)))
  write.table(trends, paste0(args[3], "_trends.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
}
writeLines(format((proc.time() - started)[["elapsed"]]), paste0(args[3], "_seconds.txt"))

if (check) {
  tests_of <- function(fit) {
    tests <- anova(fit, type = 3, ddf = "Satterthwaite")
    data.frame(term = rownames(tests), F = tests[["F value"]], den_df = tests[["DenDF"]], p = tests[["Pr(>F)"]])
  }
  methods <- lme4:::meth.tab.0
  needs <- c(nmkbw = "dfoptim", optimx = "optimx")
  methods <- methods[vapply(methods[, "optimizer"], function(o) {
    !(o %in% names(needs)) || requireNamespace(needs[[o]], quietly = TRUE)
  }, logical(1)), , drop = FALSE]
  refits <- list()
  for (k in seq_len(nrow(methods))) {
    optimizer <- methods[k, "optimizer"]
    method <- methods[k, "method"]
    settings <- switch(optimizer, optimx = list(method = method), nloptwrap = list(algorithm = method, maxeval = 1e5),
                       list(maxfun = 1e5))
    fit <- update(model, start = getME(model, "theta"),
                  control = lmerControl(optimizer = optimizer, optCtrl = settings))
    label <- if (method == "") optimizer else paste(optimizer, method, sep = ".")
    refits[[length(refits) + 1]] <- data.frame(optimizer = label, start = "optimum", tests_of(fit),
                                               loglik = logLik(fit))
  }
  if (isSingular(model)) {
    start <- unlist(lapply(getME(model, "Tlist"), function(factor) {
      sds <- sqrt(rowSums(factor^2))
      sds[sds < 1e-4] <- 1
      unlist(lapply(seq_along(sds), function(column) c(sds[column], rep(0, length(sds) - column))))
    }))
    own <- model@optinfo$optimizer
    fit <- update(model, start = start, control = lmerControl(optimizer = own))
    refits[[length(refits) + 1]] <- data.frame(optimizer = own, start = "off boundary", tests_of(fit),
                                               loglik = logLik(fit))
  }
  refits <- do.call(rbind, refits)
  write.table(refits, paste0(args[3], "_refits.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
  # printed as the report prints an F test: df to 0.1, F to 0.01, p to 0.001 (or below .001)
  half <- c(den_df = 0.05, F = 0.005, p = 0.0005)
  reported <- tests_of(model)
  top <- max(refits$loglik)
  best <- refits[refits$optimizer == refits$optimizer[which.max(refits$loglik)] &
                 refits$start == refits$start[which.max(refits$loglik)], ]
  optimum <- refits[refits$loglik >= top - 0.01, ]
  differs <- vapply(seq_len(nrow(reported)), function(i) {
    b <- best[best$term == reported$term[i], ]
    at <- optimum[optimum$term == reported$term[i], ]
    abs(b$den_df - reported$den_df[i]) >= half[["den_df"]] || abs(b$F - reported$F[i]) >= half[["F"]] ||
      (abs(b$p - reported$p[i]) >= half[["p"]] && max(b$p, reported$p[i]) >= 0.001) ||
      any(abs(at$F - reported$F[i]) >= half[["F"]])
  }, logical(1))
  verdict <- if (any(differs)) paste("unstable", paste(reported$term[differs], collapse = ", ")) else "stable"
  writeLines(verdict, paste0(args[3], "_verdict.txt"))
}
