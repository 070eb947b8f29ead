#!/usr/bin/env bash
# Mutation testing of the safety-critical modules (see docs/testing.md). By hand, not in CI: ~30 min on 2 cores.
#   pip install -e '.[test,mutation]' && bash scripts/mutation.sh
# Extra arguments go to `mutmut run` (e.g. mutant names to re-test). MUTATION_JOBS sets the parallel workers.
set -euo pipefail
cd "$(dirname "$0")/.."
# mutmut 3 imports the mutated code only from ./, src/ or source/: for the run, src/ is a view of server/.
if [ -e src ] && [ ! -L src ]; then
  echo "scripts/mutation.sh: ./src exists and is not the link this script makes; remove it first" >&2
  exit 2
fi
ln -sfn server src
trap 'rm -f src' EXIT
mutmut run --max-children "${MUTATION_JOBS:-2}" "$@"
# Survivors ("survived") and mutants no selected test reaches ("no tests"), one per line.
mutmut results
