#!/usr/bin/env bash
# One idempotent set-up step shared by `make run` and `make test`:
#   1. R with lme4/lmerTest/emmeans from Debian packages (needed by the LMM stage, pymer4's rpy2 builds against it);
#   2. a Python 3.12 venv at .venv/ with every package pinned in requirements.lock and the `mimicry` package.
# Re-running it does nothing when nothing changed (stamp file keyed on the lock's checksum).
set -euo pipefail
cd "$(dirname "$0")/../.."

R_DEBS=(r-base-core r-cran-lme4 r-cran-lmertest r-cran-emmeans)

have_r_packages() {
  command -v Rscript >/dev/null 2>&1 &&
    Rscript -e 'quit(status = !all(sapply(c("lme4", "lmerTest", "emmeans"), requireNamespace, quietly = TRUE)))' >/dev/null 2>&1
}

if ! have_r_packages; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing R and lme4/lmerTest/emmeans from Debian packages" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${R_DEBS[@]}" >/dev/null
  else
    echo "setup: R with lme4, lmerTest and emmeans is missing and cannot be installed here (needs root and apt-get)." >&2
    echo "       Install them yourself, e.g. 'sudo apt-get install ${R_DEBS[*]}'," >&2
    echo "       or from CRAN: install.packages(c('lme4', 'lmerTest', 'emmeans')), then re-run." >&2
    exit 1
  fi
fi

find_python312() {
  local candidate
  for candidate in python3.12 "$(command -v pyenv >/dev/null 2>&1 && pyenv root)"/versions/3.12*/bin/python3.12; do
    if [ -n "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1; then
      command -v "$candidate" || echo "$candidate"
      return 0
    fi
  done
  return 1
}

stamp=.venv/.installed
want="$(sha256sum requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/python ]; then
  exit 0
fi

if [ ! -x .venv/bin/python ]; then
  python=$(find_python312) || {
    echo "setup: Python 3.12 is required (Bambi >= 0.18 needs it) and was not found on PATH or under pyenv." >&2
    exit 1
  }
  echo "setup: creating .venv with $python" >&2
  "$python" -m venv .venv
fi
# pip, without the notes some machines' pip configuration prints for every missing local mirror folder
pip_quietly() {
  .venv/bin/python -m pip "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
}
echo "setup: installing pinned Python packages into .venv (requirements.lock)" >&2
pip_quietly install -q --upgrade pip
pip_quietly install -q -r requirements.lock
pip_quietly install -q --no-deps -e .
echo "$want" > "$stamp"
