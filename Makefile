# Entry points. Both create the environment first (tools/setup-env.sh is idempotent).
CORES ?= all
SNAKEMAKE_ARGS ?=

.PHONY: setup run test benchmark
setup:
	bash tools/setup-env.sh

run: setup
	.venv/bin/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS)

test: setup
	.venv/bin/python tools/fetch-test-data.py
	.venv/bin/python -m pytest $(PYTEST_ARGS)

# Re-run the default workflow and print wall time, CPU time and peak memory per rule.
benchmark: setup
	.venv/bin/python tools/benchmark.py --cores $(CORES)
