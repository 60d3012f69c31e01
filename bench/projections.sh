#!/usr/bin/env bash
# A/B of the graph's fused projections and of ONNX Runtime's intra-op spinning: writes the $PRESET demo model twice
# (`model create-demo`, fused q|k|v and gate|up MatMuls by default, `--separate-projections` for five separate ones),
# int8 copies of both (`model quantize --bits 8`), and measures decode tokens/s with `bench engine` at 1 and 16 streams
# for every folder with spinning off (the engine's default) and on (`--spinning`). Within each round the setups run in
# a rotated order, so drift on the machine falls on all alike. Writes $OUT/projections.md (median and range of the
# rounds) and the raw runs.
# Usage: bench/projections.sh   (env: PRESET=100m TOKENS=64 ROUNDS=5 REPEATS=3 DTYPES="fp32 int8" SPIN="off on"
#                                OUT=bench/results/projections WORK=/tmp/llmaspire-projections)
# Check the script quickly with: PRESET=tiny ROUNDS=1 TOKENS=8 REPEATS=1 bench/projections.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PRESET=${PRESET:-100m}
TOKENS=${TOKENS:-64}
ROUNDS=${ROUNDS:-5}
REPEATS=${REPEATS:-3}
DTYPES=${DTYPES:-fp32 int8}
SPIN=${SPIN:-off on}
OUT=${OUT:-bench/results/projections}
WORK=${WORK:-/tmp/llmaspire-projections}
mkdir -p "$OUT" "$OUT/logs" "$WORK"

BUILD_PROJECTS=LlmAspire.Cli # the CLI alone; no stories260K (MODEL empty)
MODEL=
# shellcheck source=bench/lib.sh
source bench/lib.sh

machine_info
cat "$OUT/machine.txt"

echo "== models: preset $PRESET, fused and separate projections, $DTYPES"
for graph in fused separate; do
  flag=(); [ "$graph" = separate ] && flag=(--separate-projections)
  llmaspire model create-demo --preset "$PRESET" --out "$WORK/$graph-fp32" --force "${flag[@]}" | head -1
  llmaspire model inspect "$WORK/$graph-fp32" | grep '^operators' | tee "$OUT/logs/$graph-operators.txt"
  if [[ " $DTYPES " == *" int8 "* ]]; then
    llmaspire model quantize --in "$WORK/$graph-fp32" --out "$WORK/$graph-int8" --bits 8 --force > "$OUT/logs/$graph-quantize.txt"
  fi
done

setups=()
for dtype in $DTYPES; do for spin in $SPIN; do for graph in fused separate; do setups+=("$graph $dtype $spin"); done; done; done

RUNS="$OUT/runs.tsv"
printf 'round\tgraph\tdtype\tspin\tload1\tstreams1_tok_s\tstreams16_tok_s\n' > "$RUNS"
for round in $(seq 1 "$ROUNDS"); do
  n=${#setups[@]}
  for i in $(seq 0 $((n - 1))); do
    read -r graph dtype spin <<< "${setups[$(((i + round - 1) % n))]}"
    spin_flag=(); [ "$spin" = on ] && spin_flag=(--spinning)
    load=$(cut -d' ' -f1 /proc/loadavg)
    log="$OUT/logs/$graph-$dtype-spin-$spin.txt"
    llmaspire bench engine --model "$WORK/$graph-$dtype" --streams 1,16 --no-genai --max-tokens "$TOKENS" --repeats "$REPEATS" "${spin_flag[@]}" >> "$log"
    one=$(tail -2 "$log" | awk -F'|' '$1 + 0 == 1 { gsub(/ /, "", $2); print $2 }')
    sixteen=$(tail -2 "$log" | awk -F'|' '$1 + 0 == 16 { gsub(/ /, "", $2); print $2 }')
    [ -n "$one" ] && [ -n "$sixteen" ] || { echo "no tok/s from bench engine; see $log"; exit 1; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$graph" "$dtype" "$spin" "$load" "$one" "$sixteen" | tee -a "$RUNS"
  done
done

echo "== table"
summary() { # graph dtype spin column -> "median (min-max)"
  awk -F'\t' -v g="$1" -v d="$2" -v s="$3" -v c="$4" 'NR > 1 && $2 == g && $3 == d && $4 == s { print $c }' "$RUNS" | sort -n \
    | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
            if (NR == 1) printf "%.0f", m; else printf "%.0f (%.0f-%.0f)", m, v[1], v[NR] }'
}
{
  echo "# Fused vs separate projections, spinning off vs on: decode tokens/s, preset $PRESET"
  echo
  echo "$TOKENS tokens per stream, best of $REPEATS per run, median of $ROUNDS rounds (range), setups rotated within each round;"
  echo "int8 = \`model quantize --bits 8\`. $(head -1 "$OUT/machine.txt" | cut -d' ' -f2-), commit $(git rev-parse --short HEAD), $(nproc) cores, load before $(sed -n 's/^load before: //p' "$OUT/machine.txt")."
  echo
  echo "| dtype | spinning | fused, 1 stream | separate, 1 stream | fused, 16 streams | separate, 16 streams |"
  echo "|---|---|---:|---:|---:|---:|"
  for dtype in $DTYPES; do for spin in $SPIN; do
    echo "| $dtype | $spin | $(summary fused "$dtype" "$spin" 6) | $(summary separate "$dtype" "$spin" 6) | $(summary fused "$dtype" "$spin" 7) | $(summary separate "$dtype" "$spin" 7) |"
  done; done
  echo
  for graph in fused separate; do echo "$graph: $(cat "$OUT/logs/$graph-operators.txt")"; done
} > "$OUT/projections.md"
cat "$OUT/projections.md"
