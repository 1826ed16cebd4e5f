#!/usr/bin/env bash
# The main job on the embedded default: PGlite on disk + the offline GloVe starter model.
# Loads sample text, previews the migration, applies it, shows status and searches.
set -euo pipefail
cd "$(dirname "$0")/.."
export ONNXRUNTIME_NODE_INSTALL=skip
npm run build --silent
node scripts/seed-demo.mjs .embedform/pglite
ef() { echo "\$ embedform $*" >&2; node bin/run.js "$@"; }
ef validate
ef plan
ef apply --auto-approve
ef status
ef search "cheap mortgage rates" -k 5
ef plan --detailed-exitcode
