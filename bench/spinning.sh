#!/usr/bin/env bash
# ONNX Runtime spinning A/B (issue 13): `bench engine --alternate` times the setups in turns within one process, the
# order rotated every round, so a shared machine's changing load falls on every setup alike. The 100M demo int8 and
# fp32 (Off, WithinRun, Always and ONNX Runtime GenAI, which spins), then stories260K at 1 vs 2 threads.
# With LOAD=N, N busy loops run in other processes for the whole measurement (a competing load on the cores).
# Usage: INT8=DIR FP32=DIR STORIES=DIR [ROUNDS=5] [LOAD=0] [TOKENS=64] bench/spinning.sh > result.md
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}; load=${LOAD:-0}; tokens=${TOKENS:-64}
cli=(dotnet LlmAspire.Cli/bin/Release/net10.0/llmaspire.dll)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
for ((i = 0; i < load; i++)); do (while :; do :; done) & pids+=($!); done
stamp() { echo "$1 $(date -u +%H:%M:%S) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg), $load busy loops"; echo; }
stamp started
for folder in "$INT8" "$FP32"; do
  "${cli[@]}" bench engine --model "$folder" --alternate Off,WithinRun,Always,GenAI --streams 1,16 --repeats "$rounds" --max-tokens "$tokens"
  echo
done
"${cli[@]}" bench engine --model "$STORIES" --alternate Off/1,Off/2,WithinRun/2 --streams 1,16 --repeats "$((rounds + 2))" --max-tokens 256
echo
stamp ended
