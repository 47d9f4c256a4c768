# lme4's advice for a fit it warns about (?lme4::convergence): restart from the optimum (or a perturbed point),
# with every optimizer allFit has here, and compare. Sourced into the R process that fitted the model
# (mimicry.lmm_checks).

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

# Where the refits start: the reported optimum (lme4's advice: restart from the apparent optimum, with every
# optimizer); for a singular fit also a point off the boundary, where a start at the optimum stays (the reported
# SDs with every correlation 0, a zero SD at lme4's start of 1).
refit_starts <- function(model, tol = 1e-4) {
  starts <- list(optimum = lme4::getME(model, "theta"))
  if (lme4::isSingular(model, tol)) {
    starts$`off boundary` <- unlist(lapply(lme4::getME(model, "Tlist"), function(factor) {
      sds <- sqrt(diag(tcrossprod(factor)))
      sds[sds < tol] <- 1
      diagonal <- diag(sds, length(sds))
      diagonal[lower.tri(diagonal, diag = TRUE)]
    }))
  }
  starts
}

# One optimizer's control as allFit sets it (maxfun 1e5; the method of optimx and nloptwrap); `method` NA: the
# reported fit's own optimizer with lme4's defaults. Without lme4's finite-difference gradient and Hessian at the
# end (calc.derivs): the verdict compares tests, not lme4's own check, and they cost 5-9 s of a 6-18 s refit on
# the default study.
refit_control <- function(optimizer, method) {
  if (is.na(method)) return(lme4::lmerControl(optimizer = optimizer, calc.derivs = FALSE))
  settings <- list(maxfun = 1e5)
  if (optimizer == "optimx") settings <- list(method = method)
  if (optimizer == "nloptwrap") settings <- list(algorithm = method, maxeval = 1e5)
  lme4::lmerControl(optimizer = optimizer, optCtrl = settings, calc.derivs = FALSE)
}

# Each term's type-III F (lmerTest's contrasts) at a fit's fixed effects and their covariance: the Wald F that
# lmerTest reports, without its Satterthwaite df, whose derivatives cost three quarters of a fit.
wald_f <- function(contrasts, fit) {
  beta <- lme4::fixef(fit)
  covariance <- as.matrix(vcov(fit))
  vapply(contrasts, function(L) {
    estimate <- L %*% beta
    as.numeric(t(estimate) %*% solve(L %*% covariance %*% t(L), estimate)) / nrow(L)
  }, numeric(1))
}

# The reported fit refitted in lme4 from its optimum with every optimizer allFit has here (the fit's own, lme4's
# default nloptwrap BOBYQA, among them: a restart) and, for a singular fit, from off the boundary with its own
# optimizer (refit_starts), on `cores` processes: one row per refit x ANOVA term with the start, the F test (the
# Wald F of every refit; the Satterthwaite df and p of the refit at the best log-likelihood, computed for it
# alone), the log-likelihood, the largest absolute difference of a fixed effect from the reported fit's, and what
# lme4 said. An optimizer that fails gives one row with its error and no test.
optimizer_refits <- function(model, cores = 1L) {
  optimizers <- available_optimizers()
  labels <- ifelse(optimizers$method == "", optimizers$optimizer,
                   paste(optimizers$optimizer, optimizers$method, sep = "."))
  starts <- refit_starts(model)
  jobs <- data.frame(optimizer = optimizers$optimizer, method = optimizers$method, label = labels, start = 1L)
  if (length(starts) > 1) {
    # a start off the boundary costs a fit from scratch: the fit's own optimizer only
    own <- model@optinfo$optimizer
    jobs <- rbind(jobs, data.frame(optimizer = own, method = NA, label = own, start = 2L))
  }
  frame <- model.frame(model)
  form <- formula(model)
  reml <- lme4::isREML(model)
  contrasts <- lmerTest:::get_contrasts_type3(model)
  reported <- lme4::fixef(model)
  fits <- parallel::mclapply(seq_len(nrow(jobs)), function(j) {
    tryCatch(lme4::lmer(form, data = frame, REML = reml, start = starts[[jobs$start[j]]],
                        control = refit_control(jobs$optimizer[j], jobs$method[j])),
             error = identity)
  }, mc.cores = as.integer(cores))
  ran <- vapply(fits, inherits, logical(1), "merMod")
  logliks <- vapply(fits, function(fit) if (inherits(fit, "merMod")) as.numeric(logLik(fit)) else -Inf, numeric(1))
  best <- which.max(logliks)
  rows <- lapply(seq_along(fits), function(j) {
    fit <- fits[[j]]
    label <- jobs$label[j]
    start <- names(starts)[jobs$start[j]]
    if (!ran[j]) {
      return(data.frame(optimizer = label, start = start, term = NA_character_, num_df = NA_real_, den_df = NA_real_,
                        F = NA_real_, p = NA_real_, loglik = NA_real_, fixef_difference = NA_real_,
                        messages = conditionMessage(fit)))
    }
    num_df <- vapply(contrasts, nrow, numeric(1))
    den_df <- p <- rep(NA_real_, length(contrasts))
    f <- wald_f(contrasts, fit)
    if (j == best) {
      # as_lmerModLmerTest would re-evaluate the refit's call, whose names live in this function's closures
      devfun <- lme4::lmer(form, data = frame, REML = reml, devFunOnly = TRUE)
      tests <- anova(lmerTest:::as_lmerModLT(fit, devfun), type = 3)[names(contrasts), ]
      den_df <- tests[["DenDF"]]
      p <- tests[["Pr(>F)"]]
      f <- tests[["F value"]]
    }
    said <- c(fit@optinfo$conv$lme4$messages, unlist(fit@optinfo$warnings))
    if (lme4::isSingular(fit)) said <- c(said, "boundary (singular) fit")
    data.frame(optimizer = label, start = start, term = names(contrasts), num_df = num_df, den_df = den_df, F = f,
               p = p, loglik = logliks[j], fixef_difference = max(abs(lme4::fixef(fit) - reported)),
               messages = paste(unique(said), collapse = " | "))
  })
  do.call(rbind, rows)
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
