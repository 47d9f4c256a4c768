#!/usr/bin/env Rscript
# Reference implementation of the workflow's LMMs in plain R (lme4 + lmerTest + emmeans), to check the pymer4
# route's numbers and to time it against the same fit.
# Usage: Rscript tools/reference/lmm.R DATA.tsv "FORMULA" OUT_PREFIX [TREND_VARIABLE BY]
# Exits with status 75 when this process's lme4 did not get CHOLMOD's default ordering: run it again
# (mimicry.rsession.run_in_fresh_r does; src/mimicry/lme4_ordering.R says why).
# Writes OUT_PREFIX_anova.tsv (type-III F tests, Satterthwaite df, sum-to-zero contrasts),
# OUT_PREFIX_trends.tsv (emtrends, when asked) and OUT_PREFIX_seconds.txt (fit + tests, wall seconds).
suppressPackageStartupMessages({
  library(lmerTest)
  library(emmeans)
})
script <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE))
source(file.path(dirname(normalizePath(script)), "..", "..", "src", "mimicry", "lme4_ordering.R"))
if (!lme4_default_ordering()) quit(status = LME4_RETRY_STATUS)
args <- commandArgs(trailingOnly = TRUE)
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
