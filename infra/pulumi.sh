#!/usr/bin/env bash
# Run pulumi for the wikibot stack with this stack's own state backend, never whatever backend the
# caller happens to be logged in to: WIKIBOT_PULUMI_BACKEND if set, else a folder beside this
# script (infra/.pulumi-state, git-ignored). Usage: infra/pulumi.sh up, infra/pulumi.sh config ...
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
backend="${WIKIBOT_PULUMI_BACKEND:-file://$here/.pulumi-state}"
if [[ $backend == file://* ]]; then
    mkdir -p "${backend#file://}"
fi
export PULUMI_BACKEND_URL="$backend"
cd "$here"
exec pulumi "$@"
