#!/usr/bin/env bash
# What turning off dynamic PGO (and server GC) costs the gateway: the soak fix runs the gateway with workstation GC
# and <TieredPGO>false</TieredPGO>. This starts redis-server, one model server (stories260K) and two gateways over it
# from the same Release build — one as shipped, one from a copy whose runtimeconfig.json turns dynamic PGO and server
# GC back on — warms both up, then alternates them (A B A B) on two workloads: cache hits (the gateway answers from its
# response cache, so its own per-request work is all there is) and sampled requests (the proxy path to the server).
# Usage: bench/gateway-pgo.sh   (env: PROMPTS=400 CONCURRENCY=8 OUT=bench/results/gateway-pgo BASE_PORT=18380)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-bench/results/gateway-pgo}
PROMPTS=${PROMPTS:-400}
CONCURRENCY=${CONCURRENCY:-8}
MODEL=${MODEL:-$ROOT/models/stories260K}
SHARED=${SHARED:-/work/shared/models/stories260K}
BASE_PORT=${BASE_PORT:-18380}
mkdir -p "$OUT" "$OUT/logs"
# shellcheck source=bench/lib.sh
source bench/lib.sh

{ echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"; echo "commit: $(git rev-parse --short HEAD)"; echo "cores: $(nproc)";
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"; } > "$OUT/machine.txt"

# A copy of the gateway's build whose runtime config asks for dynamic PGO and server GC, as before the soak fix.
PGO_DIR=$(mktemp -d)
cp -r "$(dirname "$GATEWAY")/." "$PGO_DIR/"
python3 - "$PGO_DIR/LlmAspire.Gateway.runtimeconfig.json" <<'PY'
import json, sys
path = sys.argv[1]
config = json.load(open(path))
props = config["runtimeOptions"].setdefault("configProperties", {})
props["System.Runtime.TieredPGO"] = True
props["System.GC.Server"] = True
json.dump(config, open(path, "w"), indent=2)
PY
grep -E "TieredPGO|GC.Server|GC.Concurrent" "$(dirname "$GATEWAY")/LlmAspire.Gateway.runtimeconfig.json" "$PGO_DIR/LlmAspire.Gateway.runtimeconfig.json" | tee "$OUT/runtimeconfigs.txt"

REDIS_PORT=$((BASE_PORT + 9)); MS0=$((BASE_PORT + 10)); SHIPPED=$((BASE_PORT + 0)); PGO=$((BASE_PORT + 1))
start redis redis-server --port "$REDIS_PORT" --save '' --appendonly no
export ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning
start modelserver-0 env ModelServer__ModelPath="$MODEL" dotnet "$MS" --urls "http://127.0.0.1:$MS0"
start gateway-shipped env ConnectionStrings__cache="127.0.0.1:$REDIS_PORT" Gateway__ModelServers__0="http://127.0.0.1:$MS0" dotnet "$GATEWAY" --urls "http://127.0.0.1:$SHIPPED"
start gateway-pgo env ConnectionStrings__cache="127.0.0.1:$REDIS_PORT" Gateway__ModelServers__0="http://127.0.0.1:$MS0" dotnet "$PGO_DIR/LlmAspire.Gateway.dll" --urls "http://127.0.0.1:$PGO"
for port in $MS0 $SHIPPED $PGO; do wait_healthy "http://127.0.0.1:$port"; done

serve() { # label url args...
  local label=$1 url=$2; shift 2
  llmaspire bench serve --base-url "$url" --label "$label" --result-json "$OUT/$label.json" "$@" > "$OUT/logs/$label.txt"
}
ARGS=(--dataset random --random-input-len 32 --random-output-len 16 --warmup 0 --max-concurrency "$CONCURRENCY")

echo "== warm-up: 1,000 requests through each gateway (half of them cache hits), so tiering and PGO settle"
for port in $SHIPPED $PGO; do
  serve "warmup-$port" "http://127.0.0.1:$port" "${ARGS[@]}" --num-prompts 500 --seed "$port"
  serve "warmup-$port-hit" "http://127.0.0.1:$port" "${ARGS[@]}" --num-prompts 500 --seed "$port"
done

echo "== cache hits (the same greedy requests a second time): shipped vs PGO + server GC, A B A B"
for round in 1 2; do
  for setup in shipped pgo; do
    port=$([ "$setup" = shipped ] && echo $SHIPPED || echo $PGO)
    seed=$((100 + round))
    serve "prime-$setup-$round" "http://127.0.0.1:$port" "${ARGS[@]}" --num-prompts "$PROMPTS" --seed "$seed"
    serve "hit-$setup-$round" "http://127.0.0.1:$port" "${ARGS[@]}" --num-prompts "$PROMPTS" --seed "$seed"
  done
done
echo "== sampled (uncached, the proxy path): A B A B"
for round in 1 2; do
  for setup in shipped pgo; do
    port=$([ "$setup" = shipped ] && echo $SHIPPED || echo $PGO)
    serve "sampled-$setup-$round" "http://127.0.0.1:$port" "${ARGS[@]}" --num-prompts "$PROMPTS" --temperature 1 --seed "$((200 + round))"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
stop_all; trap - EXIT
rm -rf "$PGO_DIR" "$OUT"/warmup-*.json "$OUT"/prime-*.json
llmaspire bench compare "$OUT"/hit-shipped-1.json "$OUT"/hit-pgo-1.json "$OUT"/hit-shipped-2.json "$OUT"/hit-pgo-2.json --markdown "$OUT/hits.md" > /dev/null
llmaspire bench compare "$OUT"/sampled-shipped-1.json "$OUT"/sampled-pgo-1.json "$OUT"/sampled-shipped-2.json "$OUT"/sampled-pgo-2.json --markdown "$OUT/sampled.md" > /dev/null
for f in "$OUT"/*.json; do python3 -c "import json,sys; d=json.load(open(sys.argv[1])); [r.pop('requests', None) for r in d['runs']]; json.dump(d, open(sys.argv[1], 'w'), indent=1)" "$f" 2>/dev/null || true; done
cat "$OUT/machine.txt" "$OUT/hits.md" "$OUT/sampled.md"
