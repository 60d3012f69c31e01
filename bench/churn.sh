#!/usr/bin/env bash
# "Servers coming and going" in docs/BENCHMARKS.md: builds Release, converts stories260K, starts redis-server, a gateway
# configured with four model server addresses and three of those servers as plain processes on 127.0.0.1 (as
# bench/soak.sh does), then runs `llmaspire bench serve` through the gateway at a steady rate with half the requests
# streamed, and meanwhile:
#   (a) SIGTERMs modelserver-1 (once its engine runs a request) and waits for it to drain and exit (it stays down);
#   (b) starts modelserver-3, whose address the gateway had from the start, and waits for it to be healthy;
#   (c) restarts every running server one after another: SIGTERM, wait for the exit, start again, wait for /health,
#       then SETTLE seconds (the gateway's probe interval plus passive health's reactivation period) before the next.
# The bench's report counts failed non-streamed requests and streams broken after they began; both should be 0.
# Writes $OUT/churn.md (command, timeline, counts), $OUT/churn.json (bench serve's result), logs in $OUT/logs/churn-*.
# Exits 1 when a request or a started stream was lost, or when the bench ended before the churn did.
# Usage: bench/churn.sh     (env: RATE=4 PROMPTS=960 OUTPUT_LEN=256 STREAM_RATIO=0.5 SETTLE=15 GRACE=30 OUT=bench/results)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-bench/results}
RATE=${RATE:-4}
PROMPTS=${PROMPTS:-960}
OUTPUT_LEN=${OUTPUT_LEN:-256}
STREAM_RATIO=${STREAM_RATIO:-0.5}
SETTLE=${SETTLE:-15}
GRACE=${GRACE:-30}
SEED=${SEED:-0}
MODEL=${MODEL:-$ROOT/models/stories260K}
SHARED=${SHARED:-/work/shared/models/stories260K}
BASE_PORT=${BASE_PORT:-18380}
mkdir -p "$OUT" "$OUT/logs"

LOG_PREFIX=churn-
# shellcheck source=bench/lib.sh
source bench/lib.sh
REDIS_PORT=$((BASE_PORT + 9)); GW=$((BASE_PORT + 0))
PORTS=($((BASE_PORT + 10)) $((BASE_PORT + 11)) $((BASE_PORT + 12)) $((BASE_PORT + 13)))
declare -A SERVER_PID=()
declare -A GENERATION=()
export ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning
start redis redis-server --port "$REDIS_PORT" --save '' --appendonly no

start_server() { # start_server I: modelserver-I on its port (a fresh log per start)
  local i=$1; GENERATION[$i]=$(( ${GENERATION[$i]:-0} + 1 ))
  start "modelserver-$i-${GENERATION[$i]}" env ModelServer__ModelPath="$MODEL" ModelServer__ShutdownGracePeriodSeconds="$GRACE" \
    Logging__LogLevel__LlmAspire.ModelServer.Hosting=Information dotnet "$MS" --urls "http://127.0.0.1:${PORTS[$i]}"
  SERVER_PID[$i]=$!
}
T0=$(date +%s.%N)
TIMELINE=()
note() { local t; t=$(awk "BEGIN { print $(date +%s.%N) - $T0 }"); TIMELINE+=("$(printf '%6.1f s  %s' "$t" "$1")"); echo "$(printf '%6.1f s' "$t")  $1"; }
in_flight() { # in_flight PORT: requests the server runs or queues, from its /metrics (0 when it does not answer)
  { curl -s --max-time 5 "http://127.0.0.1:$1/metrics" || true; } | awk '/^vllm:num_requests_(running|waiting)\{/ { n += $NF } END { print n + 0 }'
}
stop_server() { # stop_server I: SIGTERM while it runs something (waited for, at most 10 s), then wait for the exit
  local i=$1 pid=${SERVER_PID[$1]} rc=0 busy=0
  for _ in $(seq 1 200); do busy=$(in_flight "${PORTS[$i]}"); [ "$busy" != 0 ] && break; sleep 0.05; done
  note "SIGTERM modelserver-$i (pid $pid) with $busy requests in its engine"
  kill -TERM "$pid"
  wait "$pid" || rc=$?
  note "modelserver-$i exited (code $rc)"
}
bring_up() { # bring_up I: start modelserver-I and wait for /health
  start_server "$1"; note "started modelserver-$1 (pid ${SERVER_PID[$1]})"
  wait_healthy "http://127.0.0.1:${PORTS[$1]}"; note "modelserver-$1 healthy"
}

for i in 0 1 2; do start_server "$i"; done
start gateway env ConnectionStrings__cache="127.0.0.1:$REDIS_PORT" \
  Gateway__ModelServers__0="http://127.0.0.1:${PORTS[0]}" Gateway__ModelServers__1="http://127.0.0.1:${PORTS[1]}" \
  Gateway__ModelServers__2="http://127.0.0.1:${PORTS[2]}" Gateway__ModelServers__3="http://127.0.0.1:${PORTS[3]}" \
  Logging__LogLevel__LlmAspire.Gateway.Health=Information dotnet "$GATEWAY" --urls "http://127.0.0.1:$GW"
for port in "${PORTS[0]}" "${PORTS[1]}" "${PORTS[2]}" "$GW"; do wait_healthy "http://127.0.0.1:$port"; done
echo "topology up: gateway :$GW over model servers :${PORTS[0]} :${PORTS[1]} :${PORTS[2]} (and :${PORTS[3]}, not started); load $(cut -d' ' -f1-3 /proc/loadavg)"

BENCH=(bench serve --base-url "http://127.0.0.1:$GW" --label churn --request-rate "$RATE" --burstiness 1000 --num-prompts "$PROMPTS"
  --stream-ratio "$STREAM_RATIO" --random-input-len 32 --random-output-len "$OUTPUT_LEN" --temperature 0.8 --seed "$SEED" --timeout 120
  --result-json "$OUT/churn.json")
echo "== bench: llmaspire ${BENCH[*]}"
T0=$(date +%s.%N)
llmaspire "${BENCH[@]}" > "$OUT/logs/churn-bench.txt" 2>&1 & BENCH_PID=$!; PIDS+=("$BENCH_PID")
note "bench serve started: $RATE req/s, $PROMPTS requests, ${STREAM_RATIO} streamed"
sleep 15

note "(a) stop one server"
stop_server 1
sleep 10

note "(b) add one: modelserver-3, configured in the gateway from the start"
bring_up 3
sleep "$SETTLE"

note "(c) rolling restart of every running server"
for i in 0 2 3; do
  stop_server "$i"
  bring_up "$i"
  sleep "$SETTLE"
done
note "churn done"
kill -0 "$BENCH_PID" 2>/dev/null || CHURN_LATE=1
rc=0; wait "$BENCH_PID" || rc=$?
note "bench serve ended (code $rc)"
RETRIES=$(curl -s "http://127.0.0.1:$GW/metrics" | grep '^llmaspire_gateway_retries_total' || true)
DRAINS=$(grep -h "Stopping: \|Drained\|grace period ended" "$OUT"/logs/churn-modelserver-*.log | sed 's/^ */    /' || true)
stop_all; trap - EXIT

read -r FAILED_PLAIN BROKEN BEFORE STREAMED TOTAL < <(python3 -c "
import json,sys; m=json.load(open(sys.argv[1]))['runs'][0]['metrics']
print(m['failed_non_streamed'], m['streams_broken'], m['streams_failed_before_start'], m['streamed'], m['completed']+m['failed'])" "$OUT/churn.json")
{
  echo "command: bench/churn.sh (RATE=$RATE PROMPTS=$PROMPTS OUTPUT_LEN=$OUTPUT_LEN STREAM_RATIO=$STREAM_RATIO SETTLE=$SETTLE GRACE=$GRACE SEED=$SEED)"
  echo "bench:   llmaspire ${BENCH[*]}"
  echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) after the run"
  echo
  echo "timeline (seconds from the bench's start):"
  printf '  %s\n' "${TIMELINE[@]}"
  echo
  echo "requests: $TOTAL ($STREAMED streamed)"
  echo "failed non-streamed requests: $FAILED_PLAIN"
  echo "streams broken after they started: $BROKEN"
  echo "streams failed before they started: $BEFORE"
  echo
  echo "gateway retries:"; echo "${RETRIES:-  none}" | sed 's/^/  /'
  echo "drains:"; echo "${DRAINS:-    none logged}"
  echo
  sed -n '/====/,/====/p' "$OUT/logs/churn-bench.txt"
} > "$OUT/churn.md"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); [r.pop('requests', None) for r in d['runs']]; json.dump(d, open(sys.argv[1], 'w'), indent=1)" "$OUT/churn.json"
cat "$OUT/churn.md"
if [ -n "${CHURN_LATE:-}" ]; then echo "the bench ended before the churn did: raise PROMPTS"; exit 1; fi
[ "$FAILED_PLAIN" = 0 ] && [ "$BROKEN" = 0 ] || exit 1
