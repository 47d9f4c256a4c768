# Does lme4, in this R process, order its sparse Cholesky factor with CHOLMOD's default strategy (AMD)?
#
# Debian 12's lme4 1.1-31 is compiled against RcppEigen 0.3.3.9.3, whose copy of cholmod.h has CHOLMOD 2.1's
# layout, while Matrix 1.5-3 runs CHOLMOD 3.0. RcppEigen's cholmod_start() stores lme4's error handler at
# CHOLMOD 2.1's offset of `error_handler` (168), which in CHOLMOD 3.0 is `nmethods`. The low 32 bits of the
# handler's address, randomised per process, then decide the ordering: negative as an int, CHOLMOD runs its
# default (AMD); positive, it tries every method and may keep another. The same data and model then give one of
# two sets of numbers (about half the processes each). A correctly built lme4 always takes the default.
#
# The probe design (6 participants x 10 faces, crossed, intercept and slope for each) is ordered by AMD under
# the default and by a postordered natural ordering when every method is tried: its factor says which applies.
lme4_default_ordering <- function() {
  probe <- expand.grid(participant = factor(1:6), face = factor(1:10), emotion = factor(1:2))
  probe$y <- seq_len(nrow(probe)) %% 7
  parts <- lme4::lFormula(y ~ 1 + (1 + emotion | participant) + (1 + emotion | face), data = probe)
  predictor <- do.call(lme4::merPredD$new, c(parts$reTrms[c("Zt", "theta", "Lambdat", "Lind")],
                                             n = nrow(parts$X), list(X = parts$X)))
  predictor$L()@type[[1]] == 2L # CHOLMOD_AMD
}

# Exit status of a fresh R process whose lme4 did not get the default ordering: start another (see rsession.py).
LME4_RETRY_STATUS <- 75L
