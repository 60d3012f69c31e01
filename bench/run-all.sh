#!/usr/bin/env bash
# Reruns every comparison in docs/BENCHMARKS.md ("Serving") on this machine, side by side in one run:
#   engine vs ONNX Runtime GenAI (in process), gateway vs direct, cache hit vs miss,
#   prefix-affinity vs round-robin (shared-prefix TTFT), 1 vs 2 model servers (random workload tokens/s).
# It builds Release, converts stories260K, starts redis-server, two model servers and three gateways as plain
# processes on 127.0.0.1 (the settings the AppHost would give them, but a routing policy per gateway), runs
# `llmaspire bench serve` against each, stops them, and writes bench/results/*.json|*.md|*.png.
# Usage: bench/run-all.sh            (env: PROMPTS=200 CONCURRENCY=4 OUT=bench/results RUN_QUANT=0)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-bench/results}
PROMPTS=${PROMPTS:-200}
CONCURRENCY=${CONCURRENCY:-4}
MODEL=${MODEL:-$ROOT/models/stories260K}
SHARED=${SHARED:-/work/shared/models/stories260K}
BASE_PORT=${BASE_PORT:-18180}
mkdir -p "$OUT" "$OUT/logs"

# shellcheck source=bench/lib.sh
source bench/lib.sh

machine_info
cat "$OUT/machine.txt"

echo "== engine vs ONNX Runtime GenAI 0.18 (in process)"
llmaspire bench engine --model "$MODEL" --streams 1,16 --max-tokens 128 --repeats 3 | tee "$OUT/engine.md"

if [ "${RUN_QUANT:-0}" = 1 ]; then
  echo "== quantization"
  llmaspire bench quantization --model "$MODEL" --variants int8-b32-asym-acc4,int4-b32-asym-acc4 --rounds 5 --markdown "$OUT/quantization.md"
fi

# --- the serving topology, as plain processes ---
REDIS_PORT=$((BASE_PORT + 9)); MS0=$((BASE_PORT + 10)); MS1=$((BASE_PORT + 11))
GW1=$((BASE_PORT + 0)); GWRR=$((BASE_PORT + 1)); GWPA=$((BASE_PORT + 2))
start redis redis-server --port "$REDIS_PORT" --save '' --appendonly no
export ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning
start modelserver-0 env ModelServer__ModelPath="$MODEL" dotnet "$MS" --urls "http://127.0.0.1:$MS0"
start modelserver-1 env ModelServer__ModelPath="$MODEL" dotnet "$MS" --urls "http://127.0.0.1:$MS1"
gateway() { # name port policy servers...
  local name=$1 port=$2 policy=$3; shift 3; local envs=() i=0
  for s in "$@"; do envs+=("Gateway__ModelServers__$i=http://127.0.0.1:$s"); i=$((i + 1)); done
  start "$name" env ConnectionStrings__cache="127.0.0.1:$REDIS_PORT" Gateway__LoadBalancingPolicy="$policy" "${envs[@]}" dotnet "$GATEWAY" --urls "http://127.0.0.1:$port"
}
gateway gateway-1 "$GW1" RoundRobin "$MS0"
gateway gateway-rr "$GWRR" RoundRobin "$MS0" "$MS1"
gateway gateway-pa "$GWPA" PrefixAffinity "$MS0" "$MS1"
for port in $MS0 $MS1 $GW1 $GWRR $GWPA; do wait_healthy "http://127.0.0.1:$port"; done
echo "topology up: model servers :$MS0 :$MS1, gateways :$GW1 (1 server) :$GWRR (RoundRobin) :$GWPA (PrefixAffinity)"

serve() { # label url args...
  local label=$1 url=$2; shift 2
  llmaspire bench serve --base-url "$url" --label "$label" --result-json "$OUT/$label.json" "$@" | tee "$OUT/logs/$label.txt" | grep -E "Serving|Successful|Failed|throughput|Median TTFT|Median TPOT|Median E2EL|X-Cache|result:" || true
}
RANDOM_ARGS=(--dataset random --random-input-len 32 --random-output-len 64 --num-prompts "$PROMPTS" --goodput ttft:500 tpot:50)

echo "== warm-up: 150 sampled (uncached) requests to every endpoint, so JIT and tiered compilation settle first"
for port in $MS0 $MS1 $GW1 $GWRR $GWPA; do
  llmaspire bench serve --base-url "http://127.0.0.1:$port" --label "warmup-$port" --num-prompts 150 --warmup 0 --max-concurrency 8 \
    --temperature 1 --random-input-len 32 --random-output-len 64 --seed "$port" > "$OUT/logs/warmup-$port.txt"
done

# Each comparison alternates its two setups twice (A B A B), each run with its own seed (fresh prompts, so neither
# the gateway's response cache nor the servers' prefix caches carry over), and compares them within this one run.
echo "== gateway overhead: direct to modelserver-0 vs through the gateway to it"
serve direct "http://127.0.0.1:$MS0" "${RANDOM_ARGS[@]}" --warmup 4 --max-concurrency "$CONCURRENCY" --seed 11
serve gateway "http://127.0.0.1:$GW1" "${RANDOM_ARGS[@]}" --warmup 4 --max-concurrency "$CONCURRENCY" --seed 12
serve direct-2 "http://127.0.0.1:$MS0" "${RANDOM_ARGS[@]}" --warmup 4 --max-concurrency "$CONCURRENCY" --seed 13
serve gateway-2 "http://127.0.0.1:$GW1" "${RANDOM_ARGS[@]}" --warmup 4 --max-concurrency "$CONCURRENCY" --seed 14
# the same with sampling (temperature 1): the cache is bypassed, so only the proxy path remains
serve direct-sampled "http://127.0.0.1:$MS0" "${RANDOM_ARGS[@]}" --warmup 4 --max-concurrency "$CONCURRENCY" --temperature 1 --seed 15
serve gateway-sampled "http://127.0.0.1:$GW1" "${RANDOM_ARGS[@]}" --warmup 4 --max-concurrency "$CONCURRENCY" --temperature 1 --seed 16
serve direct-sampled-2 "http://127.0.0.1:$MS0" "${RANDOM_ARGS[@]}" --warmup 4 --max-concurrency "$CONCURRENCY" --temperature 1 --seed 17
serve gateway-sampled-2 "http://127.0.0.1:$GW1" "${RANDOM_ARGS[@]}" --warmup 4 --max-concurrency "$CONCURRENCY" --temperature 1 --seed 18
llmaspire bench compare "$OUT"/{direct,gateway,direct-2,gateway-2,direct-sampled,gateway-sampled,direct-sampled-2,gateway-sampled-2}.json --plot-dir "$OUT" --name gateway-overhead --markdown "$OUT/gateway-overhead.md"

echo "== cache: the same deterministic requests twice through the gateway (first pass MISS, second HIT)"
serve cache-miss "http://127.0.0.1:$GW1" "${RANDOM_ARGS[@]}" --warmup 0 --max-concurrency "$CONCURRENCY" --seed 21
serve cache-hit "http://127.0.0.1:$GW1" "${RANDOM_ARGS[@]}" --warmup 0 --max-concurrency "$CONCURRENCY" --seed 21
llmaspire bench compare "$OUT/cache-miss.json" "$OUT/cache-hit.json" --plot-dir "$OUT" --name cache --markdown "$OUT/cache.md"

echo "== routing: prefix-affinity vs round-robin over 2 servers, shared-prefix workload"
PREFIX_ARGS=(--dataset shared-prefix --shared-prefix-groups 8 --shared-prefix-len 128 --random-input-len 8 --random-output-len 32 --num-prompts "$PROMPTS" --warmup 0 --max-concurrency "$CONCURRENCY")
serve prefix-affinity "http://127.0.0.1:$GWPA" "${PREFIX_ARGS[@]}" --seed 31
serve round-robin "http://127.0.0.1:$GWRR" "${PREFIX_ARGS[@]}" --seed 32
serve prefix-affinity-2 "http://127.0.0.1:$GWPA" "${PREFIX_ARGS[@]}" --seed 33
serve round-robin-2 "http://127.0.0.1:$GWRR" "${PREFIX_ARGS[@]}" --seed 34
llmaspire bench compare "$OUT/prefix-affinity.json" "$OUT/round-robin.json" "$OUT/prefix-affinity-2.json" "$OUT/round-robin-2.json" --plot-dir "$OUT" --name routing --markdown "$OUT/routing.md"

echo "== scale-out: 1 vs 2 model servers behind the gateway, random workload, 16 in flight"
serve one-server "http://127.0.0.1:$GW1" "${RANDOM_ARGS[@]}" --warmup 4 --max-concurrency 16 --temperature 1 --seed 41
serve two-servers "http://127.0.0.1:$GWRR" "${RANDOM_ARGS[@]}" --warmup 4 --max-concurrency 16 --temperature 1 --seed 42
serve one-server-2 "http://127.0.0.1:$GW1" "${RANDOM_ARGS[@]}" --warmup 4 --max-concurrency 16 --temperature 1 --seed 43
serve two-servers-2 "http://127.0.0.1:$GWRR" "${RANDOM_ARGS[@]}" --warmup 4 --max-concurrency 16 --temperature 1 --seed 44
llmaspire bench compare "$OUT/one-server.json" "$OUT/two-servers.json" "$OUT/one-server-2.json" "$OUT/two-servers-2.json" --plot-dir "$OUT" --name scale-out --markdown "$OUT/scale-out.md"

echo "== request-rate sweep through the gateway over 2 servers (Poisson arrivals, sampled so uncached)"
llmaspire bench serve --base-url "http://127.0.0.1:$GWRR" --label sweep --result-json "$OUT/sweep.json" --plot-dir "$OUT" \
  --dataset random --random-input-len 32 --random-output-len 64 --goodput ttft:500 tpot:50 --num-prompts $((PROMPTS / 2)) --warmup 4 --temperature 1 --request-rate 16,32,64,128,256,512 --seed 51 > "$OUT/logs/sweep.txt"
llmaspire bench compare "$OUT/sweep.json" --markdown "$OUT/sweep.md" > /dev/null
rm -f "$OUT"/sweep-ttft-cdf.png "$OUT"/sweep-tpot-cdf.png "$OUT"/sweep-e2el-cdf.png

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
stop_all; trap - EXIT
rm -f "$OUT"/warmup-*.json
for f in "$OUT"/*.json; do python3 -c "import json,sys; d=json.load(open(sys.argv[1])); [r.pop('requests', None) for r in d['runs']]; json.dump(d, open(sys.argv[1], 'w'), indent=1)" "$f" 2>/dev/null || true; done
echo "== done: $OUT"
cat "$OUT"/gateway-overhead.md "$OUT"/cache.md "$OUT"/routing.md "$OUT"/scale-out.md "$OUT"/sweep.md
