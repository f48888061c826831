#!/usr/bin/env bash
# Interleaved A/B of token throughput between checkouts (or settings) of Clavis: each round runs
# `bench/token.bench.mjs` (Clavis on SQLite only, no peer, no report) once per tree, in turn, so
# that the machine's drift spreads evenly over them. Prints one line per run:
#   round tree method rps p99-ms
# and appends them to OUT.
#
#   bench/ab.sh ROUNDS OUT TREE[:VAR=value ...] ...
#   bench/ab.sh 6 ab.txt ../clavis-before . .:METRICS=false
# Each TREE is a checkout with node_modules and a built dist/ (`npm run build`); copy this
# checkout's bench/*.mjs into an older tree so that every tree runs the same harness.
# Env: DURATION (8), METHODS (client_secret_basic,client_secret_post).
set -euo pipefail
rounds=$1
out=$2
shift 2
for r in $(seq "$rounds"); do
  for spec in "$@"; do
    tree=${spec%%:*}
    vars=""
    [[ $spec == *:* ]] && vars=${spec#*:}
    label="$(basename "$(cd "$tree" && pwd)")${vars:+ $vars}"
    (cd "$tree" && env $vars PEER=0 RESULTS=0 DURATION="${DURATION:-8}" \
      METHODS="${METHODS:-client_secret_basic,client_secret_post}" node bench/token.bench.mjs 2>&1) |
      grep -E '^   (client_secret|private_key)' |
      awk -v t="${label// /_}" -v r="$r" '{print r, t, $1, $2, $8}' | tee -a "$out"
  done
done
