#!/usr/bin/env bash
# The whole test suite, as CI runs it: build, native PostgreSQL + pgvector, models, vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
export ONNXRUNTIME_NODE_INSTALL=skip
export EMBEDFORM_CACHE_DIR="${EMBEDFORM_CACHE_DIR:-$PWD/.cache/embedform}"
npm run build
npm run typecheck --silent
bash scripts/setup-postgres.sh
node bin/run.js models build --all
npx vitest run "$@"
