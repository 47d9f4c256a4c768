# The paper's asymptotic model in R brms (Debian r-cran-brms), for the parity check in tools/reference/brms_parity.py.
# Usage: Rscript tools/reference/brms_parity.R DATA.csv OUT_PREFIX ITERATIONS SEED [CORES]
# Writes OUT_PREFIX_summary.tsv (every population-level parameter: mean, sd, 2.5% / 97.5% quantiles, Rhat,
# bulk / tail ESS) and OUT_PREFIX_timing.tsv (compile and sampling seconds).
args <- commandArgs(trailingOnly = TRUE)
data_path <- args[1]
prefix <- args[2]
iterations <- as.integer(args[3])
seed <- as.integer(args[4])
cores <- if (length(args) >= 5) as.integer(args[5]) else 2L

suppressPackageStartupMessages(library(brms))
rstan::rstan_options(boost_lib = "/usr/include") # Debian's r-cran-bh is empty; its Boost headers live here

d <- read.csv(data_path, colClasses = c(participant = "character"))
for (factor in c("participant", "drug", "muscle", "emotion")) d[[factor]] <- factor(d[[factor]])

formula <- bf(log_emg ~ a - (a - b) * exp(-exp(c) * time),
              a ~ 0 + drug:muscle:emotion + (0 + muscle:emotion | participant),
              b ~ 0 + (0 + muscle:emotion | participant),
              c ~ 0 + drug:muscle:emotion + (0 + muscle:emotion | participant),
              nl = TRUE)
priors <- c(prior(normal(0, 0.2), nlpar = "a"),
            prior(normal(-1, 1), nlpar = "c"),
            prior(normal(0, 0.1), class = "sd", nlpar = "a"),
            prior(normal(0, 0.1), class = "sd", nlpar = "b"),
            prior(normal(0, 0.1), class = "sd", nlpar = "c"),
            prior(normal(0, 0.5), class = "sigma"))

compile_start <- Sys.time()
model <- brm(formula, data = d, prior = priors, chains = 0, backend = "rstan")
compile_seconds <- as.numeric(difftime(Sys.time(), compile_start, units = "secs"))
sample_start <- Sys.time()
fit <- update(model, recompile = FALSE, chains = 4, iter = iterations, warmup = iterations %/% 2, cores = cores,
              seed = seed, refresh = 0)
sample_seconds <- as.numeric(difftime(Sys.time(), sample_start, units = "secs"))
saveRDS(fit, paste0(prefix, "_fit.rds"))

draws <- posterior::as_draws_df(fit)
keep <- grep("^(b_|sd_|cor_|sigma$)", posterior::variables(draws), value = TRUE)
summary <- posterior::summarise_draws(posterior::subset_draws(draws, variable = keep),
                                      mean, sd, ~quantile(.x, probs = c(0.025, 0.975)),
                                      posterior::rhat, posterior::ess_bulk, posterior::ess_tail)
names(summary) <- c("variable", "mean", "sd", "q2.5", "q97.5", "rhat", "ess_bulk", "ess_tail")
summary <- data.frame(variable = summary$variable, lapply(summary[-1], as.numeric)) # plain columns for write.table
write.table(summary, paste0(prefix, "_summary.tsv"), sep = "\t", row.names = FALSE, quote = FALSE)
divergent <- sum(sapply(rstan::get_sampler_params(fit$fit, inc_warmup = FALSE), function(x) sum(x[, "divergent__"])))
write.table(data.frame(compile_seconds = compile_seconds, sample_seconds = sample_seconds, divergences = divergent,
                       iterations = iterations, chains = 4),
            paste0(prefix, "_timing.tsv"), sep = "\t", row.names = FALSE, quote = FALSE)
