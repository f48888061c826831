#!/usr/bin/env bash
# One sitting of every benchmark behind bench/RESULTS.md, one after the other on this machine:
#   1. POST /token: Clavis on SQLite, PostgreSQL, PostgreSQL + Redis, then node-oidc-provider (bench/token.bench.mjs)
#   2. guarded routes (bench/guard.bench.mjs → bench/GUARD.md)
#   3. 10 vs 100,000 clients and a 10,000-client registration burst (bench/scale-clients.mjs → bench/CLIENTS.md)
#   4. one vs two instances on PostgreSQL + Redis (bench/scale-out.mjs → bench/RESULTS-scale-out.md)
# then appends 2 and 3 (and a pointer to 4) to bench/RESULTS.md. Every bench records the load average.
#
#   DATABASE_URL=postgres://…/db REDIS_URL=redis://…/n npm run bench:sitting
# DATABASE_URL's database: the token and clients benches work in schemas of their own (dropped at the
# end); the scale-out bench needs its public schema empty, so it is reset before step 4.
set -euo pipefail
: "${DATABASE_URL:?DATABASE_URL is required}" "${REDIS_URL:?REDIS_URL is required}"
cd "$(dirname "$0")/.."
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
npm run -s build >/dev/null
BACKENDS=sqlite,postgres,postgres+redis node bench/token.bench.mjs
node bench/guard.bench.mjs
BENCH_PG_URL="$DATABASE_URL" node bench/scale-clients.mjs
psql "$DATABASE_URL" -q -c 'DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;'
redis-cli -u "$REDIS_URL" flushdb >/dev/null
node bench/scale-out.mjs
{
  echo
  cat bench/GUARD.md
  echo
  cat bench/CLIENTS.md
  echo
  echo "## Scale-out"
  echo
  echo "Same sitting, \`npm run bench:scale-out\`: see bench/RESULTS-scale-out.md."
  echo
  echo "Load average at the end of the sitting: $(cut -d' ' -f1-3 /proc/loadavg)."
} >>bench/RESULTS.md
echo "wrote bench/RESULTS.md"
