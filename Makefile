# Entry points. Each creates the environment first (tools/setup/env.sh is idempotent); tools/README.md lists
# every script these targets run.
CORES ?= all
SNAKEMAKE_ARGS ?=
# as an activated venv: rules call the venv's tools (papermill, jupyter) by name
export PATH := $(CURDIR)/.venv/bin:$(PATH)
STYLED := src workflow/scripts workflow/notebooks tests tools

.PHONY: setup run power power-designs calibration multiverse multiverse-null test test-unit lint benchmark benchmark-lmm benchmark-bayes benchmark-bayes-gate benchmark-cluster brms-parity
setup:
	bash tools/setup/env.sh

run: setup
	.venv/bin/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS)

# The power analysis of the default design (config/power.yaml; README, "Power"): about 46 min on 2 cores.
power: setup
	.venv/bin/snakemake power --cores $(CORES) --configfile config/power.yaml $(SNAKEMAKE_ARGS)

# The designs compared (config/power_designs.yaml; README, "Between participants or crossover?"): the
# participants a between-participant study and a crossover need; 55 min on 2 cores (shared with other work).
power-designs: setup
	.venv/bin/snakemake power --cores $(CORES) --configfile config/power_designs.yaml $(SNAKEMAKE_ARGS)

# Simulation-based calibration of the asymptotic model (config/calibration.yaml; docs/reproduce.md, "Calibration").
calibration: setup
	.venv/bin/snakemake calibration --cores $(CORES) --configfile config/calibration.yaml $(SNAKEMAKE_ARGS)

# The multiverse of the default study (config/multiverse.yaml; docs/multiverse.md): 432 universes.
multiverse: setup
	.venv/bin/snakemake multiverse --cores $(CORES) --configfile config/multiverse.yaml $(SNAKEMAKE_ARGS)

# The multiverse's joint test over 100 simulated null studies from raw recordings (docs/multiverse.md,
# "How the joint test is validated"): its false-positive rate; about an hour on 2 cores, resumable.
multiverse-null: setup
	.venv/bin/python tools/validation/multiverse_null.py --cores $(CORES)

# Everything (the README's second command): the test system (chromium, SLURM; root), then every tier, on two
# workers (whole files each, in the order tests/conftest.py gives: a file's fixtures are made once; the shared
# test run is made once for both).
TEST_WORKERS ?= 2
test: setup
	bash tools/setup/test-system.sh
	.venv/bin/python tools/setup/fetch-test-data.py
	.venv/bin/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

# The unit tier alone: no workflow run, no model fitted to planted data, no root (about a minute).
test-unit: setup
	.venv/bin/python tools/setup/fetch-test-data.py
	.venv/bin/python -m pytest -m unit $(PYTEST_ARGS)

# Style and types, as the unit tier checks them (tests/test_style.py).
lint: setup
	.venv/bin/ruff check $(STYLED)
	.venv/bin/ruff format --check $(STYLED)
	.venv/bin/snakefmt --check Snakefile workflow/rules
	.venv/bin/mypy

# Re-run the default workflow and print wall time, CPU time and peak memory per rule.
benchmark: setup
	.venv/bin/python tools/benchmarks/workflow.py --cores $(CORES)

# Each LMM of the last run through pymer4 and through plain Rscript, in fresh processes (run `make run` first).
benchmark-lmm: setup
	.venv/bin/python tools/benchmarks/lmm.py

# Re-sample the four nested Bayesian models and print time, ESS per second and memory beside brms's.
benchmark-bayes: setup
	.venv/bin/python tools/benchmarks/bayes.py --run --cores $(CORES)

# The convergence gate over three seeds: every nested model per seed on the last run's window table (run `make run`
# first).
benchmark-bayes-gate: setup
	.venv/bin/python tools/benchmarks/bayes_gate.py --seeds 3

# The test configuration locally and through SLURM (a single-node cluster on this machine; root), and
# `snakemake -n` on the default configuration (run `make run` first).
benchmark-cluster: setup
	bash tools/setup/slurm-cluster.sh install
	.venv/bin/python tools/benchmarks/cluster.py --cores $(CORES)

# Optional: the same model in R brms (needs apt-get install r-cran-brms; ~20 min) against the brms variant.
brms-parity: setup
	.venv/bin/python tools/reference/brms_parity.py
