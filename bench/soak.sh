#!/usr/bin/env bash
# The soak in docs/BENCHMARKS.md ("Soak"): builds Release, converts stories260K, starts redis-server, two model servers
# and a gateway in front of both as plain processes on 127.0.0.1 (as bench/run-all.sh does), sends REQUESTS mixed
# requests (plain, streamed, dropped mid-stream, invalid) through the gateway with `llmaspire bench soak`, stops
# everything, and exits with the soak's code: 0 when nothing failed, every server's running/waiting/KV gauges are back
# at 0, and no process's RSS grew more than 10 % after the first CHECKPOINT requests.
# Usage: bench/soak.sh            (env: REQUESTS=20000 CONCURRENCY=16 CHECKPOINT=2000 SEED=0 OUT=bench/results)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-bench/results}
REQUESTS=${REQUESTS:-20000}
CONCURRENCY=${CONCURRENCY:-16}
CHECKPOINT=${CHECKPOINT:-2000}
SEED=${SEED:-0}
MODEL=${MODEL:-$ROOT/models/stories260K}
SHARED=${SHARED:-/work/shared/models/stories260K}
BASE_PORT=${BASE_PORT:-18280}
mkdir -p "$OUT" "$OUT/logs"

LOG_PREFIX=soak-
# shellcheck source=bench/lib.sh
source bench/lib.sh
REDIS_PORT=$((BASE_PORT + 9)); MS0=$((BASE_PORT + 10)); MS1=$((BASE_PORT + 11)); GW=$((BASE_PORT + 0))
start redis redis-server --port "$REDIS_PORT" --save '' --appendonly no
export ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning
start modelserver-0 env ModelServer__ModelPath="$MODEL" dotnet "$MS" --urls "http://127.0.0.1:$MS0"; MS0_PID=$!
start modelserver-1 env ModelServer__ModelPath="$MODEL" dotnet "$MS" --urls "http://127.0.0.1:$MS1"; MS1_PID=$!
start gateway env ConnectionStrings__cache="127.0.0.1:$REDIS_PORT" Gateway__ModelServers__0="http://127.0.0.1:$MS0" Gateway__ModelServers__1="http://127.0.0.1:$MS1" \
  dotnet "$GATEWAY" --urls "http://127.0.0.1:$GW"; GW_PID=$!
for port in $MS0 $MS1 $GW; do wait_healthy "http://127.0.0.1:$port"; done
echo "topology up: gateway :$GW (pid $GW_PID) over model servers :$MS0 (pid $MS0_PID) :$MS1 (pid $MS1_PID); load $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== soak: $REQUESTS requests, $CONCURRENCY at a time"
echo "command: llmaspire bench soak --gateway http://127.0.0.1:$GW --servers http://127.0.0.1:$MS0,http://127.0.0.1:$MS1 --pids $MS0_PID,$MS1_PID,$GW_PID --requests $REQUESTS --concurrency $CONCURRENCY --checkpoint $CHECKPOINT --seed $SEED" > "$OUT/soak.md"
rc=0
llmaspire bench soak --gateway "http://127.0.0.1:$GW" --servers "http://127.0.0.1:$MS0,http://127.0.0.1:$MS1" --pids "$MS0_PID,$MS1_PID,$GW_PID" \
  --requests "$REQUESTS" --concurrency "$CONCURRENCY" --checkpoint "$CHECKPOINT" --seed "$SEED" --result-json "$OUT/soak.json" | tee -a "$OUT/soak.md" || rc=$?
stop_all; trap - EXIT
echo "== done (exit $rc): $OUT/soak.md, $OUT/soak.json"
exit "$rc"
