# Entry points. Both create the environment first (tools/setup-env.sh is idempotent).
CORES ?= all
SNAKEMAKE_ARGS ?=
# as an activated venv: rules call the venv's tools (papermill, jupyter) by name
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: setup run test benchmark benchmark-bayes benchmark-cluster brms-parity
setup:
	bash tools/setup-env.sh

run: setup
	.venv/bin/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS)

test: setup
	bash tools/setup-test-system.sh
	.venv/bin/python tools/fetch-test-data.py
	.venv/bin/python -m pytest $(PYTEST_ARGS)

# Re-run the default workflow and print wall time, CPU time and peak memory per rule.
benchmark: setup
	.venv/bin/python tools/benchmark.py --cores $(CORES)

# Re-sample the four nested Bayesian models and print time, ESS per second and memory beside brms's.
benchmark-bayes: setup
	.venv/bin/python tools/benchmark_bayes.py --run --cores $(CORES)

# The test configuration locally and through SLURM (a single-node cluster on this machine; root), and
# `snakemake -n` on the default configuration (run `make run` first).
benchmark-cluster: setup
	bash tools/slurm-cluster.sh install
	.venv/bin/python tools/benchmark_cluster.py --cores $(CORES)

# Optional: the same model in R brms (needs apt-get install r-cran-brms; ~20 min) against the brms variant.
brms-parity: setup
	.venv/bin/python tools/brms_parity.py
