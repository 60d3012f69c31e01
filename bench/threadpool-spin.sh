#!/usr/bin/env bash
# .NET thread-pool spinning A/B (issue 13). An idle .NET thread-pool worker spins (sched_yield) for a while before it
# parks; perf showed those spins at ~10 % of a 16-stream bench's samples, next to ONNX Runtime's threads on 2 cores.
# The setting is process-wide and read at start-up, so the setups are separate processes, taken in turns, the order
# swapped every round:
#   default  the runtime's spin limit (what the projects use)
#   0        System.Threading.ThreadPool.UnfairSemaphoreSpinLimit=0 (a copy of the runtimeconfig.json with it added,
#            passed with `dotnet exec --runtimeconfig`)
# Each process runs `bench engine --no-genai` (best of REPEATS); the table gives the median over ROUNDS and the range.
# With SERVE=DIR it then does the same for a model server over HTTP: the server started as a process (Release build)
# with each runtimeconfig in turn, `bench serve` at concurrency 1 and 16 against it (64 output tokens, sampled).
# Usage: MODELS="DIR..." [ROUNDS=5] [REPEATS=3] [STREAMS=1,16] [THREADS=2] [SERVE=DIR] bench/threadpool-spin.sh > result.md
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}; repeats=${REPEATS:-3}; streams=${STREAMS:-1,16}; threads=${THREADS:-2}
bin=LlmAspire.Cli/bin/Release/net10.0
results=$(mktemp); limited0=$(mktemp --suffix .json)
trap 'rm -f "$results" "$limited0"' EXIT
limited() { sed 's/"configProperties": {/"configProperties": {\n      "System.Threading.ThreadPool.UnfairSemaphoreSpinLimit": 0,/' "$1"; }
[ -f "$bin/llmaspire.runtimeconfig.json" ] || { echo "build the CLI in Release first" >&2; exit 1; }
limited "$bin/llmaspire.runtimeconfig.json" > "$limited0"
unset DOTNET_ThreadPool_UnfairSemaphoreSpinLimit
echo "started $(date -u +%H:%M:%S) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
for ((round = 0; round < rounds; round++)); do
  order=(default 0)
  if ((round % 2 == 1)); then order=(0 default); fi
  for model in $MODELS; do
    for setup in "${order[@]}"; do
      config=$bin/llmaspire.runtimeconfig.json
      if [ "$setup" = 0 ]; then config=$limited0; fi
      dotnet exec --runtimeconfig "$config" "$bin/llmaspire.dll" bench engine --model "$model" --no-genai \
          --streams "$streams" --repeats "$repeats" --max-tokens 64 --threads "$threads" \
        | awk -v model="$(basename "$(dirname "$model")")/$(basename "$model")" -v setup="$setup" -F'|' \
            '/^stories/ { gsub(/ /, "", $2); gsub(/ /, "", $3); print model, $2, setup, $3 }' >> "$results"
    done
  done
done
echo "| model | streams | spin limit default tok/s | spin limit 0 tok/s | ratio |"
echo "|---|--:|--:|--:|--:|"
sort -k1,1 -k2,2n "$results" | awk '
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    low = a[1]; high = a[n]
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { key = $1 " " $2; keys[key] = 1; values[key, $3] = values[key, $3] " " $4 }
  END {
    for (key in keys) {
      split(key, k, " ")
      d = median(values[key, "default"]); dl = low; dh = high
      z = median(values[key, "0"]); zl = low; zh = high
      printf "| %s | %s | %.0f (%s–%s) | %.0f (%s–%s) | %.2f× |\n", k[1], k[2], d, dl, dh, z, zl, zh, z / d
    }
  }' | sort
echo
if [ -n "${SERVE:-}" ]; then
  msbin=LlmAspire.ModelServer/bin/Release/net10.0
  [ -f "$msbin/LlmAspire.ModelServer.runtimeconfig.json" ] || { echo "build the model server in Release first" >&2; exit 1; }
  mslimited0=$(mktemp --suffix .json); served=$(mktemp)
  limited "$msbin/LlmAspire.ModelServer.runtimeconfig.json" > "$mslimited0"
  port=18290
  for ((round = 0; round < rounds; round++)); do
    order=(default 0)
    if ((round % 2 == 1)); then order=(0 default); fi
    for setup in "${order[@]}"; do
      config=$msbin/LlmAspire.ModelServer.runtimeconfig.json
      if [ "$setup" = 0 ]; then config=$mslimited0; fi
      ModelServer__ModelPath="$SERVE" dotnet exec --runtimeconfig "$config" "$msbin/LlmAspire.ModelServer.dll" \
        --urls "http://127.0.0.1:$port" > /dev/null 2>&1 &
      server=$!
      for _ in $(seq 1 120); do [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ] && break; sleep 1; done
      for concurrency in 1 16; do
        dotnet exec --runtimeconfig "$bin/llmaspire.runtimeconfig.json" "$bin/llmaspire.dll" bench serve \
            --base-url "http://127.0.0.1:$port" --dataset random --random-input-len 32 --random-output-len 64 \
            --num-prompts $((concurrency * 8)) --warmup 4 --max-concurrency "$concurrency" --temperature 1 --seed "$round" \
          2> /dev/null | awk -v c="$concurrency" -v setup="$setup" '/Output token throughput/ { print "server", c, setup, $NF }' >> "$served"
      done
      kill -TERM "$server"; wait "$server" 2>/dev/null || true
    done
  done
  echo "| model server (bench serve) | concurrency | spin limit default output tok/s | spin limit 0 output tok/s | ratio |"
  echo "|---|--:|--:|--:|--:|"
  sort -k2,2n "$served" | awk '
    function median(list,   n, a, i, j, t) {
      n = split(list, a, " ")
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      low = a[1]; high = a[n]
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { keys[$2] = 1; values[$2, $3] = values[$2, $3] " " $4 }
    END {
      for (c in keys) {
        d = median(values[c, "default"]); dl = low; dh = high
        z = median(values[c, "0"]); zl = low; zh = high
        printf "| %s | %s | %.0f (%s–%s) | %.0f (%s–%s) | %.2f× |\n", "'"$(basename "$SERVE")"'", c, d, dl, dh, z, zl, zh, z / d
      }
    }' | sort -t'|' -k3,3n
  rm -f "$mslimited0" "$served"
  echo
fi
echo "ended $(date -u +%H:%M:%S) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
