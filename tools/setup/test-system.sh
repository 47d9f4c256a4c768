#!/usr/bin/env bash
# System packages only the tests need (run by `make test` after tools/setup/env.sh): Debian's chromium, in which
# the study report is rendered headless, and SLURM with accounting, for the single-node cluster the cluster
# profile is tested on (tools/setup/slurm-cluster.sh). Idempotent: does nothing when both are there.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: the tests need Debian's chromium (apt-get install chromium) and cannot install it here (needs root)." >&2
    exit 1
  fi
  echo "setup: installing chromium (headless rendering of the study report)" >&2
  install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
  install || { apt-get update -qq && install; }
fi
bash tools/setup/slurm-cluster.sh install
