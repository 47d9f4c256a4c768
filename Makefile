# Entry points. Both create the environment first (tools/setup-env.sh is idempotent).
CORES ?= all
SNAKEMAKE_ARGS ?=

.PHONY: setup run test
setup:
	bash tools/setup-env.sh

run: setup
	.venv/bin/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS)

test: setup
	.venv/bin/python -m pytest $(PYTEST_ARGS)
