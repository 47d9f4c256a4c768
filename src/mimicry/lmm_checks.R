# lme4's advice for a fit it warns about (?lme4::convergence): restart from the optimum, refit with every
# optimizer allFit has here, and compare. Sourced into the R process that fitted the model (mimicry.lmm_checks).

# allFit's optimizers (lme4:::meth.tab.0) whose packages are installed. allFit itself is not called: in lme4
# 1.1-31 it fails whenever optimx or dfoptim is missing ("logical subscript too long"), as on Debian 12.
available_optimizers <- function() {
  table <- data.frame(
    optimizer = c("bobyqa", "Nelder_Mead", "nlminbwrap", "nmkbw", "optimx", "nloptwrap", "nloptwrap"),
    method = c("", "", "", "", "L-BFGS-B", "NLOPT_LN_NELDERMEAD", "NLOPT_LN_BOBYQA")
  )
  needs <- c(nmkbw = "dfoptim", optimx = "optimx")
  installed <- vapply(table$optimizer, function(o) {
    !(o %in% names(needs)) || requireNamespace(needs[[o]], quietly = TRUE)
  }, logical(1))
  table[installed, ]
}

# The model refitted from scratch with one optimizer, as allFit does (its settings: maxfun 1e5; the method of
# optimx and nloptwrap).
refit_with <- function(model, optimizer, method) {
  settings <- list(maxfun = 1e5)
  if (optimizer == "optimx") settings <- list(method = method)
  if (optimizer == "nloptwrap") settings <- list(algorithm = method, maxeval = 1e5)
  update(model, control = lme4::lmerControl(optimizer = optimizer, optCtrl = settings))
}

# One row per optimizer x ANOVA term: the type-III F test (Satterthwaite df, as lmerTest::anova reports it),
# the log-likelihood, the largest absolute difference of a fixed effect from the reported fit's, and what lme4
# said. The refits run on `cores` processes.
# "restart" is the reported fit restarted from its own optimum; an optimizer that fails gives one row with its
# error and no test.
optimizer_refits <- function(model, cores = 1L) {
  optimizers <- available_optimizers()
  labels <- c("restart", ifelse(
    optimizers$method == "", optimizers$optimizer, paste(optimizers$optimizer, optimizers$method, sep = ".")
  ))
  reported <- lme4::fixef(model)
  refit <- function(k) {
    fit <- tryCatch(
      if (k == 0) update(model, start = lme4::getME(model, "theta"))
      else refit_with(model, optimizers$optimizer[k], optimizers$method[k]),
      error = identity
    )
    if (!inherits(fit, "merMod")) {
      return(data.frame(optimizer = labels[k + 1], term = NA_character_, num_df = NA_real_, den_df = NA_real_,
                        F = NA_real_, p = NA_real_, loglik = NA_real_, fixef_difference = NA_real_,
                        messages = conditionMessage(fit)))
    }
    tests <- anova(fit, type = 3)
    said <- c(fit@optinfo$conv$lme4$messages, unlist(fit@optinfo$warnings))
    if (lme4::isSingular(fit)) said <- c(said, "boundary (singular) fit")
    data.frame(optimizer = labels[k + 1], term = rownames(tests), num_df = tests[["NumDF"]],
               den_df = tests[["DenDF"]], F = tests[["F value"]], p = tests[["Pr(>F)"]],
               loglik = as.numeric(logLik(fit)), fixef_difference = max(abs(lme4::fixef(fit) - reported)),
               messages = paste(unique(said), collapse = " | "))
  }
  do.call(rbind, parallel::mclapply(0:nrow(optimizers), refit, mc.cores = as.integer(cores)))
}

# The variance components at the boundary of a singular fit: SDs that are zero (relative to the residual SD, as
# isSingular's theta) and correlations of +-1, each as "group: term" words.
boundary_components <- function(model, tol = 1e-4) {
  components <- as.data.frame(lme4::VarCorr(model))
  residual <- components$sdcor[components$grp == "Residual"]
  sds <- components[is.na(components$var2) & components$grp != "Residual", ]
  cors <- components[!is.na(components$var2), ]
  c(
    sprintf("%s: SD of %s is 0", sds$grp, sds$var1)[sds$sdcor / residual < tol],
    sprintf("%s: correlation of %s and %s is %+.0f", cors$grp, cors$var1, cors$var2, cors$sdcor)[
      abs(cors$sdcor) > 1 - tol]
  )
}
