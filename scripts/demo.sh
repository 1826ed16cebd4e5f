#!/usr/bin/env bash
# The main job on the embedded default: PGlite on disk + the offline GloVe starter model, no server.
# Works in a scratch copy of the config (.embedform/demo) so the repository's files stay untouched:
# load real sample text, plan and apply the first generation, search, switch to another profile,
# migrate with a shadow column and atomic swap, then roll back without re-embedding.
set -euo pipefail
cd "$(dirname "$0")/.."
export ONNXRUNTIME_NODE_INSTALL=skip
root=$PWD
npm run build --silent
demo=.embedform/demo
rm -rf "$demo"
mkdir -p "$demo"
cp -r embedding.config.yaml profiles schemas "$demo/"
node scripts/seed-demo.mjs "$demo/.embedform/pglite"
cd "$demo"
ef() { printf '\n\033[1m$ embedform %s\033[0m\n' "$*"; node "$root/bin/run.js" "$@"; }
ef validate
ef plan
ef apply --auto-approve
ef search "cheap mortgage rates" -k 3
ef profile use starter-compact --collection docs
ef plan
ef apply --auto-approve
ef status
ef search "cheap mortgage rates" -k 3
ef rollback --collection docs --auto-approve
ef status
ef plan
