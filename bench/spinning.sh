#!/usr/bin/env bash
# ONNX Runtime spinning A/B (issue 13): `bench engine --spin Off|WithinRun|Always` on the 100M demo, int8 and fp32, 1 and
# 16 streams, the setups rotated within each round (each round starts at a different setup), medians and ranges over
# ROUNDS. With LOAD=N, N busy loops run in other processes for the whole measurement (a competing load on the cores).
# Usage: INT8=DIR FP32=DIR [ROUNDS=3] [LOAD=0] [TOKENS=128] bench/spinning.sh > result.md
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}; load=${LOAD:-0}; tokens=${TOKENS:-128}
cli=(dotnet LlmAspire.Cli/bin/Release/net10.0/llmaspire.dll)
setups=()
for dtype in int8 fp32; do for mode in Off WithinRun Always; do setups+=("$dtype:$mode"); done; done
raw=$(mktemp)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
for ((i = 0; i < load; i++)); do (while :; do :; done) & pids+=($!); done
echo "started $(date -u +%H:%M:%S) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg), $load busy loops, $tokens tokens per stream"
for ((r = 0; r < rounds; r++)); do
  n=${#setups[@]}
  for ((k = 0; k < n; k++)); do
    setup=${setups[$(((k + r) % n))]}
    dtype=${setup%%:*}; mode=${setup##*:}
    folder=$INT8; [ "$dtype" = fp32 ] && folder=$FP32
    "${cli[@]}" bench engine --model "$folder" --no-genai --spin "$mode" --streams 1,16 --repeats 2 --max-tokens "$tokens" \
      | awk -v s="$setup" -F'|' '$1 ~ /^ *[0-9]+ *$/ { gsub(/ /, "", $1); gsub(/ /, "", $2); print s, $1, $2 }' >> "$raw"
  done
done
echo "ended $(date -u +%H:%M:%S) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| dtype | spinning | 1 stream tok/s | 16 streams tok/s |"
echo "|---|---|---:|---:|"
for setup in "${setups[@]}"; do
  row="| ${setup%%:*} | ${setup##*:}"
  for streams in 1 16; do
    row+=" | $(awk -v s="$setup" -v c="$streams" '$1 == s && $2 == c { print $3 }' "$raw" | sort -n \
      | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.0f (%.0f-%.0f)", m, v[1], v[NR] }')"
  done
  echo "$row |"
done
rm -f "$raw"
