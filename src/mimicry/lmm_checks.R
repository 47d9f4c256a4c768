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

# The rank of a random-effects term's covariance matrix: the nonzero diagonal of its relative Cholesky factor
# (isSingular's test).
cholesky_rank <- function(factor, tol) sum(abs(diag(factor)) >= tol)

# The variance components at the boundary of a singular fit: SDs that are zero (relative to the residual SD, as
# isSingular's theta) and correlations of +-1, each as "group: term" words; a random-effects term singular with
# neither (its covariance matrix rank-deficient) is named with its rank.
boundary_components <- function(model, tol = 1e-4) {
  components <- as.data.frame(lme4::VarCorr(model))
  residual <- components$sdcor[components$grp == "Residual"]
  sds <- components[is.na(components$var2) & components$grp != "Residual", ]
  cors <- components[!is.na(components$var2), ]
  named <- c(
    sprintf("%s: SD of %s is 0", sds$grp, sds$var1)[sds$sdcor / residual < tol],
    sprintf("%s: correlation of %s and %s is %+.0f", cors$grp, cors$var1, cors$var2, cors$sdcor)[
      abs(cors$sdcor) > 1 - tol]
  )
  factors <- lme4::getME(model, "Tlist")
  terms <- lme4::getME(model, "cnms")
  ranks <- vapply(factors, cholesky_rank, numeric(1), tol)
  groups <- names(terms)
  unnamed <- ranks < lengths(terms) & !vapply(groups, function(g) any(startsWith(named, paste0(g, ":"))), logical(1))
  c(named, sprintf(
    "%s: the covariance matrix of %s has rank %d of %d", groups, vapply(terms, paste, "", collapse = ", "),
    as.integer(ranks), lengths(terms)
  )[unnamed])
}

# A singular fit's random part without its boundary components: in each random-effects term at the boundary, the
# effects whose SD is 0 dropped and the rest made uncorrelated (each its own term over the numeric columns of the
# term's model matrix, as afex's || does for factors); the other terms as they were (over numeric columns too, the
# same model). The data with those columns, the formula, and the random part in the model's own words (`labels`:
# what the numeric columns of an earlier step stand for).
drop_boundary <- function(model, tol, step = 1L, labels = character(0)) {
  frame <- model.frame(model)
  factors <- lme4::getME(model, "Tlist")
  terms <- lme4::getME(model, "cnms")
  parts <- blocks <- character(0)
  single <- list()  # per group, its effects in terms of their own (uncorrelated with the rest)
  for (bar in lme4::findbars(formula(model))) {
    group <- deparse(bar[[3]])
    columns <- model.matrix(as.formula(call("~", bar[[2]])), frame)
    k <- which(names(terms) == group & vapply(terms, identical, logical(1), colnames(columns)))[1]
    covariance <- tcrossprod(factors[[k]])
    keep <- sqrt(diag(covariance)) >= tol
    if (!any(keep)) next
    variables <- colnames(columns)
    fresh <- !(variables %in% names(labels))
    variables[fresh] <- sprintf(".re%d_%d_%d", step, length(parts) + 1, seq_along(variables))[fresh]
    labels[variables[fresh]] <- colnames(columns)[fresh]
    frame[variables[fresh]] <- as.data.frame(columns[, fresh, drop = FALSE])
    correlation <- cov2cor(covariance[keep, keep, drop = FALSE])
    at_boundary <- any(!keep) || any(abs(correlation[upper.tri(correlation)]) > 1 - tol) ||
      cholesky_rank(factors[[k]], tol) < ncol(columns)
    said <- sub("^\\(Intercept\\)$", "1", labels[variables[keep]])
    if (at_boundary || sum(keep) == 1) {
      parts <- c(parts, sprintf("(0 + %s | %s)", variables[keep], group))
      single[[group]] <- c(single[[group]], said)
    } else {
      parts <- c(parts, sprintf("(0 + %s | %s)", paste(variables[keep], collapse = " + "), group))
      blocks <- c(blocks, sprintf("(%s | %s)", paste(said, collapse = " + "), group))
    }
  }
  uncorrelated <- vapply(names(single), function(group) {
    sprintf("(%s %s %s)", paste(single[[group]], collapse = " + "), if (length(single[[group]]) > 1) "||" else "|",
            group)
  }, "")
  fixed <- deparse1(lme4::nobars(formula(model)))
  list(frame = frame, formula = as.formula(paste(c(fixed, parts), collapse = " + ")),
       random = paste(c(blocks, uncorrelated), collapse = " + "), labels = labels)
}

# The fit without a singular fit's boundary components (drop_boundary, repeated while the simpler fit is singular
# still, at most `steps` times): its random part in words, its type-III F tests and log-likelihood, whether it is
# singular; NULL for a fit that is not singular.
without_boundary <- function(model, tol = 1e-4, steps = 4L) {
  if (!lme4::isSingular(model, tol)) return(NULL)
  fit <- model
  labels <- character(0)
  for (step in seq_len(steps)) {
    simpler <- drop_boundary(fit, tol, step, labels)
    labels <- simpler$labels
    fit <- lmerTest::lmer(simpler$formula, data = simpler$frame, REML = lme4::isREML(model))
    if (!lme4::isSingular(fit, tol)) break
  }
  tests <- anova(fit, type = 3)
  list(
    random = simpler$random,
    tests = data.frame(term = rownames(tests), num_df = tests[["NumDF"]], den_df = tests[["DenDF"]],
                       F = tests[["F value"]], p = tests[["Pr(>F)"]]),
    loglik = as.numeric(logLik(fit)),
    singular = lme4::isSingular(fit, tol)
  )
}
