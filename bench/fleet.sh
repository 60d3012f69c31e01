#!/usr/bin/env bash
# The fleet benchmark in docs/BENCHMARKS.md ("Fleet: routing policies over simulated servers"): routing policies
# compared through the gateway over FLEETS of simulated model servers (ModelServer:Engine=simulated), side by side in
# one run. For each fleet size it starts that many bare `dotnet LlmAspire.ModelServer.dll` processes (no AppHost, no
# `dotnet run` wrapper: ~1 s and ~100 MiB each) and one gateway per policy over all of them, then for each workload
# (shared-prefix, random) and each rate (fractions of the fleet's uncached capacity) runs `llmaspire bench serve` once
# per policy, alternating the policies within each rate; only the gateway being measured runs (the others are
# SIGSTOPped, so their /metrics reads and health probes cost nothing meanwhile). Every setup gets its own seed: fresh
# prefixes, so no setup finds prefixes another one cached (the servers' caches are never shared between setups).
# Shared-prefix runs are primed first: one request of each prefix group through the gateway under test, so the run
# measures the steady state of where that policy put the groups, not the first touch of each.
# ROUNDS (default 1) repeats each rate's alternation that many times with fresh seeds: one run's TTFT p90 moves by
# up to ±30 % between identical setups here, so comparisons within 10 % need the median of several rounds.
# Writes $OUT/fleet-N/{shared,random}-POLICY-rRATE[-ROUND].json, summary.md (TTFT p50/p90, throughput, goodput, prefix-cache
# hit rate from the servers' own counters), bench compare tables and CDF plots.
# Usage: bench/fleet.sh [--quick]   (env: FLEETS="16 64" OUT=bench/results/fleet BASE_PORT=19000 DURATION=10)
#   --quick: 16 servers, one rate per workload, shorter runs (under 3 minutes on a quiet 2-core machine).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
QUICK=0
[ "${1:-}" = --quick ] && QUICK=1
OUT=${OUT:-bench/results/fleet}
BASE_PORT=${BASE_PORT:-19000}
if [ "$QUICK" = 1 ]; then
  FLEETS=${FLEETS:-16}; DURATION=${DURATION:-6}; FRACTIONS=${FRACTIONS:-0.95}
else
  FLEETS=${FLEETS:-16 64}; DURATION=${DURATION:-10}; FRACTIONS=${FRACTIONS:-0.6 0.95}
fi
POLICIES=${POLICIES:-RoundRobin LeastRequests PowerOfTwoChoices LoadAware PrefixAffinity}   # NAME or NAME@KEY=VALUE
ROUNDS=${ROUNDS:-1}
WORKLOADS=${WORKLOADS:-shared random}
mkdir -p "$OUT" "$OUT/logs"

# The scaled-down server (see docs/BENCHMARKS.md for why each value): a prompt token costs 1 ms (25× an H100's
# 0.04), so an uncached ~800-token prompt takes ~0.8 s and one server completes ~1.2 uncached requests/s; 8,192 KV
# tokens hold ~9 such prompts (running ones included); 16 rows; 512-token prefill chunks.
PREFILL_MS=${PREFILL_MS:-1.0}
export ModelServer__Engine=simulated ModelServer__Simulated__PrefillMsPerToken=$PREFILL_MS \
  ModelServer__Simulated__KvBudgetTokens=${KV_BUDGET:-8192} ModelServer__Simulated__MaxSequences=16 \
  ModelServer__Simulated__ContextLength=2048 ModelServer__Simulated__PrefillChunkTokens=512
PREFIX_WORDS=200   # ~760 tokens of the simulated tokenizer (about 3.8 tokens a word)
SUFFIX_WORDS=8     # ~30 tokens
RANDOM_WORDS=200   # random prompts as long as a shared prefix, so both workloads have the same uncached cost
OUTPUT_TOKENS=8
UNCACHED_S=0.82    # seconds of prefill an uncached prompt costs one server (PREFILL_MS × ~800 tokens + 2 steps' base)

BUILD_PROJECTS="LlmAspire.Cli LlmAspire.ModelServer LlmAspire.Gateway"
LOG_PREFIX=fleet-
# shellcheck source=bench/lib.sh
source bench/lib.sh
machine_info
cat "$OUT/machine.txt"
export ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning
SERVER_ENV=(DOTNET_gcServer=0 DOTNET_gcConcurrent=0 DOTNET_TieredPGO=0 DOTNET_GCHeapHardLimit=0x20000000)

hit_counters() { # ports... → "hits queries" summed over the servers' vllm:prefix_cache_* counters
  for p in "$@"; do curl -s "http://127.0.0.1:$p/metrics"; done |
    awk '/^vllm:prefix_cache_hits_total/ {h += $NF} /^vllm:prefix_cache_queries_total/ {q += $NF} END {printf "%d %d\n", h, q}'
}

T0=$(date +%s)
for N in $FLEETS; do
  DIR="$OUT/fleet-$N"; mkdir -p "$DIR"; rm -f "$DIR"/*.json "$DIR"/*.svg "$DIR"/*.md; : > "$DIR/hits.txt"
  GROUPS_N=$((2 * N + 1))   # odd, so round-robin's turn never lines up with the groups' turn (prompt i is group i mod G)
  CAPACITY=$(echo "$N / $UNCACHED_S" | bc -l)
  echo "== fleet of $N simulated servers (load $(cut -d' ' -f1-3 /proc/loadavg)); $GROUPS_N prefix groups; uncached capacity ~$(printf %.1f "$CAPACITY") req/s"
  SERVER_PORTS=(); SERVER_PIDS=()
  for i in $(seq 0 $((N - 1))); do
    port=$((BASE_PORT + 100 + i)); SERVER_PORTS+=("$port")
    start "ms-$N-$i" env "${SERVER_ENV[@]}" dotnet "$MS" --urls "http://127.0.0.1:$port"; SERVER_PIDS+=($!)
  done
  t=$(date +%s)
  for port in "${SERVER_PORTS[@]}"; do wait_healthy "http://127.0.0.1:$port"; done
  echo "   $N servers healthy after $(($(date +%s) - t)) s; RSS $(ps -o rss= -p "$(IFS=,; echo "${SERVER_PIDS[*]}")" | awk '{s += $1} END {printf "%.0f MiB", s / 1024}')"

  declare -A GW_PORT GW_PID
  j=0
  for policy in $POLICIES; do
    port=$((BASE_PORT + j)); GW_PORT[$policy]=$port; envs=(); i=0
    for s in "${SERVER_PORTS[@]}"; do envs+=("Gateway__ModelServers__$i=http://127.0.0.1:$s"); i=$((i + 1)); done
    # A policy may carry one gateway setting: "LoadAware@Gateway__Routing__LoadTieBand=0" compares a variant.
    [[ "$policy" == *@* ]] && envs+=("${policy#*@}")
    start "gw-$N-$policy" env Gateway__LoadBalancingPolicy="${policy%%@*}" Gateway__Cache__Enabled=false "${envs[@]}" \
      dotnet "$GATEWAY" --urls "http://127.0.0.1:$port"; GW_PID[$policy]=$!
    j=$((j + 1))
  done
  for policy in $POLICIES; do
    wait_healthy "http://127.0.0.1:${GW_PORT[$policy]}"
    # A few requests through each gateway so the JIT has compiled its path before anything is measured.
    llmaspire bench serve --base-url "http://127.0.0.1:${GW_PORT[$policy]}" --label warmup --num-prompts 16 --warmup 0 --max-concurrency 8 \
      --random-input-len 16 --random-output-len 4 --temperature 1 --seed 999 > "$OUT/logs/fleet-warmup-$N-$policy.txt"
    kill -STOP "${GW_PID[$policy]}"
  done

  seed=$((N * 1000))
  for workload in $WORKLOADS; do
    for fraction in $FRACTIONS; do
      rate=$(printf %.1f "$(echo "$CAPACITY * $fraction" | bc -l)")
      prompts=$(printf %.0f "$(echo "$rate * $DURATION" | bc -l)")
      for round in $(seq 1 "$ROUNDS"); do
      for policy in $POLICIES; do
        seed=$((seed + 1)); url="http://127.0.0.1:${GW_PORT[$policy]}"; name="$workload-$policy-r$rate"
        [ "$ROUNDS" -gt 1 ] && name="$name-$round"
        kill -CONT "${GW_PID[$policy]}"; sleep 1   # a fresh /metrics reading before the first request
        if [ "$workload" = shared ]; then
          data=(--dataset shared-prefix --shared-prefix-groups "$GROUPS_N" --shared-prefix-len "$PREFIX_WORDS" --random-input-len "$SUFFIX_WORDS")
          llmaspire bench serve --base-url "$url" --label prime "${data[@]}" --random-output-len 1 --num-prompts "$GROUPS_N" \
            --warmup 0 --max-concurrency "$N" --temperature 1 --seed "$seed" > "$OUT/logs/fleet-prime-$N-$name.txt"
          warm=0
        else
          data=(--dataset random --random-input-len "$RANDOM_WORDS"); warm=2
        fi
        before=$(hit_counters "${SERVER_PORTS[@]}")
        llmaspire bench serve --base-url "$url" --label "$policy" "${data[@]}" --random-output-len "$OUTPUT_TOKENS" \
          --request-rate "$rate" --num-prompts "$prompts" --warmup "$warm" --temperature 1 --seed "$seed" --timeout 120 \
          --goodput ttft:2000 tpot:100 --result-json "$DIR/$name.json" > "$OUT/logs/fleet-$N-$name.txt"
        after=$(hit_counters "${SERVER_PORTS[@]}")
        kill -STOP "${GW_PID[$policy]}"
        read -r h0 q0 <<< "$before"; read -r h1 q1 <<< "$after"
        hit=$(echo "scale=3; ($h1 - $h0) / ($q1 - $q0 + 0.0001)" | bc -l)
        echo "$name $hit $(cut -d' ' -f1 /proc/loadavg)" >> "$DIR/hits.txt"
        jq -r --arg hit "$hit" '.runs[0].metrics as $m | "   \(.label) @ \(.runs[0].request_rate) req/s: TTFT p50 \($m.ttft.median_ms | floor) p90 \($m.ttft.p90_ms | floor) ms, \($m.request_throughput * 100 | floor / 100) req/s, goodput \(($m.request_goodput // 0) * 100 | floor / 100) req/s, \($m.completed)/\($m.failed) ok/failed, prefix hits \($hit)"' \
          "$DIR/$name.json"
      done
      done
    done
  done

  for policy in $POLICIES; do kill -CONT "${GW_PID[$policy]}"; kill -TERM "${GW_PID[$policy]}"; done
  for pid in "${SERVER_PIDS[@]}"; do kill -TERM "$pid"; done
  for pid in "${SERVER_PIDS[@]}" "${GW_PID[@]}"; do wait "$pid" 2>/dev/null || true; done
  unset GW_PORT GW_PID

  # The summary: TTFT p50/p90, throughput and goodput per setup, with the servers' prefix-cache hit rate.
  {
    echo "### $N servers ($GROUPS_N prefix groups; load average at the end of each run in the last column)"
    echo
    echo "| workload | policy | rate (req/s) | ok/failed | TTFT p50 (ms) | TTFT p90 (ms) | req/s | goodput (req/s) | prefix-cache hits | load |"
    echo "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"
    while read -r name hit load; do
      jq -r --arg w "${name%%-*}" --arg hit "$hit" --arg load "$load" '.runs[0] as $r | $r.metrics as $m |
        "| \($w) | \(.label) | \($r.request_rate) | \($m.completed)/\($m.failed) | \($m.ttft.median_ms | round) | \($m.ttft.p90_ms | round) | \($m.request_throughput * 100 | round / 100) | \(($m.request_goodput // 0) * 100 | round / 100) | \(($hit | tonumber) * 100 | round)% | \($load) |"' "$DIR/$name.json"
    done < "$DIR/hits.txt"
    if [ "$ROUNDS" -gt 1 ]; then
      # Median over the rounds of each setup's TTFT p50/p90 and goodput, with the range of the p90s.
      echo
      echo "Medians over $ROUNDS rounds (TTFT p90 range in brackets):"
      echo
      echo "| workload | policy | rate (req/s) | TTFT p50 (ms) | TTFT p90 (ms) | goodput (req/s) |"
      echo "|---|---|--:|--:|--:|--:|"
      while read -r name _ _; do
        jq -c --arg w "${name%%-*}" '.runs[0] as $r | {w: $w, p: .label, r: $r.request_rate, p50: $r.metrics.ttft.median_ms, p90: $r.metrics.ttft.p90_ms, g: ($r.metrics.request_goodput // 0)}' "$DIR/$name.json"
      done < "$DIR/hits.txt" | jq -rs 'def med: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
        group_by([.w, .r, .p]) | sort_by(.[0].w != "shared", .[0].r) | .[] |
        "| \(.[0].w) | \(.[0].p) | \(.[0].r) | \(map(.p50) | med | round) | \(map(.p90) | med | round) [\(map(.p90) | min | round)–\(map(.p90) | max | round)] | \(map(.g) | med * 100 | round / 100) |"'
    fi
  } > "$DIR/summary.md"
  for workload in $WORKLOADS; do
    files=("$DIR"/$workload-*.json); [ "$ROUNDS" -gt 1 ] && files=("$DIR"/$workload-*-1.json)
    llmaspire bench compare "${files[@]}" --plot-dir "$DIR" --name "$workload" --plot-format svg --markdown "$DIR/$workload-compare.md" > /dev/null
  done
  cat "$DIR/summary.md"
done
stop_all; trap - EXIT
echo "== done in $(($(date +%s) - T0)) s (after the build): $OUT/fleet-*/summary.md, plots $OUT/fleet-*/*.svg"
