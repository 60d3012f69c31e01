#!/usr/bin/env bash
# How many requests a second one gateway process serves on one core, and what it adds to each request's latency.
# Starts redis-server, SERVERS simulated model servers with every step cost at zero (they answer as fast as HTTP
# allows), and gateways with an API key and per-key rate limits in Redis (limits high enough never to refuse), the
# response cache bypassed (Cache-Control: no-cache, no-store). The gateway is pinned to core GATEWAY_CPU, everything
# else (servers, Redis, the load generator bench/loadgen) to LOAD_CPUS, so the gateway's core is its own.
#  - direct: the load generator to the servers themselves (taken in turn) at each of RATES, open loop;
#  - 1 gateway: closed loop with CONNECTIONS in flight (the saturation rate), then each of RATES open loop;
#  - 2 gateways sharing Redis (both on GATEWAY2_CPU, so the same one core unless set otherwise): the same.
# "added" = p50/p99 through the gateway minus p50/p99 direct at the same rate. "gw CPU µs/req" = the gateway
# processes' CPU time (utime + stime) over the run divided by the requests answered: 1e6 / that is what one core
# would serve, which holds up on a busy machine better than the req/s does. "Redis calls/req" = EVAL/EVALSHA calls
# (the rate-limit check and the token corrections) over the requests answered.
# Usage: bench/gateway-capacity.sh   (env: SERVERS=4 RATES="500 1000 2000" DURATION=10 WARMUP=3 CONNECTIONS=32
#        MAX_TOKENS=2 OUT=bench/results/gateway-capacity BASE_PORT=18480 GATEWAY_CPU=1 GATEWAY2_CPU=1 LOAD_CPUS=0)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-bench/results/gateway-capacity}
SERVERS=${SERVERS:-4}
RATES=${RATES:-500 1000 2000}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
CONNECTIONS=${CONNECTIONS:-32}
MAX_TOKENS=${MAX_TOKENS:-2}
BASE_PORT=${BASE_PORT:-18480}
GATEWAY_CPU=${GATEWAY_CPU:-1}
GATEWAY2_CPU=${GATEWAY2_CPU:-$GATEWAY_CPU}
LOAD_CPUS=${LOAD_CPUS:-0}
mkdir -p "$OUT" "$OUT/logs"
BUILD_PROJECTS="LlmAspire.ModelServer LlmAspire.Gateway"
# shellcheck source=bench/lib.sh
source bench/lib.sh
machine_info
dotnet build -c Release bench/loadgen/loadgen.cs -o bench/loadgen/bin -v q -nologo > "$OUT/logs/build-loadgen.log" 2>&1 || { tail -20 "$OUT/logs/build-loadgen.log"; exit 1; }

KEY=sk-bench-gateway-capacity
REDIS_PORT=$((BASE_PORT + 9)); GW1=$((BASE_PORT + 0)); GW2=$((BASE_PORT + 1))
on_load() { taskset -c "$LOAD_CPUS" "$@"; }
start redis taskset -c "$LOAD_CPUS" redis-server --port "$REDIS_PORT" --save '' --appendonly no
export ASPNETCORE_ENVIRONMENT=Production
SERVER_URLS=(); GATEWAY_ENV=(ConnectionStrings__cache="127.0.0.1:$REDIS_PORT" Gateway__Auth__Keys__0="$KEY"
  Gateway__RateLimits__RequestsPerMinute=1000000000 Gateway__RateLimits__TokensPerMinute=1000000000)
for i in $(seq 0 $((SERVERS - 1))); do
  port=$((BASE_PORT + 10 + i)); SERVER_URLS+=("http://127.0.0.1:$port"); GATEWAY_ENV+=(Gateway__ModelServers__$i="http://127.0.0.1:$port")
  start "modelserver-$i" taskset -c "$LOAD_CPUS" env Logging__LogLevel__Default=Warning ModelServer__Engine=simulated \
    ModelServer__Simulated__DecodeBaseMs=0 ModelServer__Simulated__PrefillMsPerToken=0 ModelServer__Simulated__DecodeMsPerSequence=0 \
    ModelServer__Simulated__DecodeMsPerKvToken=0 dotnet "$MS" --urls "http://127.0.0.1:$port"
done
start gateway-1 taskset -c "$GATEWAY_CPU" env "${GATEWAY_ENV[@]}" dotnet "$GATEWAY" --urls "http://127.0.0.1:$GW1"
GW1_PID=${PIDS[-1]}
for url in "${SERVER_URLS[@]}" "http://127.0.0.1:$GW1"; do wait_healthy "$url"; done
MODEL_ID=$(curl -sf "${SERVER_URLS[0]}/v1/models" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
BODY="{\"model\":\"$MODEL_ID\",\"prompt\":\"Once upon a time there was a gateway\",\"max_tokens\":$MAX_TOKENS,\"temperature\":0}"
HEADERS=(--header "Authorization: Bearer $KEY" --header "Cache-Control: no-cache, no-store")
# The gateway answers 200 with the key and the limit headers, and 401 without the key.
curl -sf -D "$OUT/logs/check-headers.txt" -o /dev/null "http://127.0.0.1:$GW1/v1/completions" -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $KEY" -H 'Cache-Control: no-cache, no-store' -d "$BODY"
grep -qi '^x-ratelimit-remaining-requests' "$OUT/logs/check-headers.txt" || { echo "no rate-limit headers"; exit 1; }
grep -qi '^x-cache: *bypass' "$OUT/logs/check-headers.txt" || { echo "cache not bypassed"; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GW1/v1/completions" -H 'Content-Type: application/json' -d "$BODY")" = 401 ] \
  || { echo "no 401 without a key"; exit 1; }

cpu_ticks() {
  local total=0
  for pid in "$@"; do [ -r "/proc/$pid/stat" ] || { echo "gateway $pid is gone (see $OUT/logs)" >&2; exit 1; }; total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done
  echo "$total"
}
# load LABEL PIDS(comma-separated) URL-ARGS... -- MODE-ARGS...: writes $OUT/LABEL.json with the gateway CPU per request.
load() {
  local label=$1 pids=$2; shift 2
  local targets=() mode=()
  while [ "$1" != -- ]; do targets+=(--url "$1/v1/completions"); shift; done; shift; mode=("$@")
  on_load dotnet bench/loadgen/bin/loadgen.dll "${targets[@]}" --body "$BODY" "${HEADERS[@]}" --duration "$WARMUP" --warmup 0 "${mode[@]}" > /dev/null
  local before=0 after=0
  [ -n "$pids" ] && before=$(cpu_ticks ${pids//,/ })
  redis-cli -p "$REDIS_PORT" config resetstat > /dev/null
  on_load dotnet bench/loadgen/bin/loadgen.dll "${targets[@]}" --body "$BODY" "${HEADERS[@]}" --duration "$DURATION" --warmup 0 "${mode[@]}" > "$OUT/$label.json"
  [ -n "$pids" ] && after=$(cpu_ticks ${pids//,/ })
  local scripts
  scripts=$(redis-cli -p "$REDIS_PORT" info commandstats | tr -d '\r' | awk -F'[=,]' '/^cmdstat_eval(sha)?:/ {n += $2} END {print n + 0}')
  python3 - "$OUT/$label.json" "$((after - before))" "$(getconf CLK_TCK)" "$scripts" <<'PY'
import json, sys
path, ticks, hz, scripts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
d = json.load(open(path))
d["gw_cpu_us_per_req"] = round(ticks / hz * 1e6 / max(d["ok"], 1), 1) if ticks else None
d["redis_calls_per_req"] = round(scripts / max(d["ok"], 1), 2) if ticks else None
json.dump(d, open(path, "w"))
PY
  echo "  $label: $(cat "$OUT/$label.json")"
}

echo "== direct to the $SERVERS servers"
for rate in $RATES; do load "direct-$rate" "" "${SERVER_URLS[@]}" -- --rate "$rate"; done
echo "== 1 gateway (core $GATEWAY_CPU)"
load "gw1-saturation" "$GW1_PID" "http://127.0.0.1:$GW1" -- --connections "$CONNECTIONS"
for rate in $RATES; do load "gw1-$rate" "$GW1_PID" "http://127.0.0.1:$GW1" -- --rate "$rate"; done

start gateway-2 taskset -c "$GATEWAY2_CPU" env "${GATEWAY_ENV[@]}" dotnet "$GATEWAY" --urls "http://127.0.0.1:$GW2"
GW2_PID=${PIDS[-1]}
wait_healthy "http://127.0.0.1:$GW2"
echo "== 2 gateways sharing Redis (cores $GATEWAY_CPU and $GATEWAY2_CPU)"
load "gw2-saturation" "$GW1_PID,$GW2_PID" "http://127.0.0.1:$GW1" "http://127.0.0.1:$GW2" -- --connections "$CONNECTIONS"
for rate in $RATES; do load "gw2-$rate" "$GW1_PID,$GW2_PID" "http://127.0.0.1:$GW1" "http://127.0.0.1:$GW2" -- --rate "$rate"; done
# Both gateways counted against the one key in Redis: its request counter holds what they passed.
redis-cli -p "$REDIS_PORT" --scan --pattern 'llmaspire:ratelimit:*:r:*' > "$OUT/logs/redis-keys.txt"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
stop_all; trap - EXIT

python3 - "$OUT" "$RATES" <<'PY' | tee "$OUT/table.md"
import json, os, sys
out, rates = sys.argv[1], sys.argv[2].split()
r = lambda name: json.load(open(os.path.join(out, name + ".json")))
fmt = lambda v, f="{:,.2f}": "–" if v is None else f.format(v)
print(open(os.path.join(out, "machine.txt")).read().strip().replace("\n", "; "))
print()
print("| setup | offered req/s | achieved req/s | failed | p50 ms | p99 ms | added p50 ms | added p99 ms | gw CPU µs/req | req/s per gw core | Redis calls/req |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for rate in rates:
    d = r(f"direct-{rate}")
    print(f"| direct | {int(rate):,} | {d['rps']:,.0f} | {d['failed']} | {d['p50_ms']:.2f} | {d['p99_ms']:.2f} | | | | | |")
for setup, label in (("gw1", "1 gateway"), ("gw2", "2 gateways, Redis")):
    for rate in ["saturation"] + rates:
        d = r(f"{setup}-{rate}")
        base = None if rate == "saturation" else r(f"direct-{rate}")
        cpu = d.get("gw_cpu_us_per_req")
        print(f"| {label} | {'closed loop' if base is None else f'{int(rate):,}'} | {d['rps']:,.0f} | {d['failed']} | {d['p50_ms']:.2f} | {d['p99_ms']:.2f} | "
              f"{fmt(None if base is None else d['p50_ms'] - base['p50_ms'])} | {fmt(None if base is None else d['p99_ms'] - base['p99_ms'])} | "
              f"{fmt(cpu, '{:,.0f}')} | {fmt(None if not cpu else 1e6 / cpu, '{:,.0f}')} | {fmt(d.get('redis_calls_per_req'))} |")
PY
