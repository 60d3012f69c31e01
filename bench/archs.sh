#!/usr/bin/env bash
# Decode speed per architecture: for each of llama, mistral, qwen2, qwen3, phi3, gemma2 and gemma3 it writes the
# deterministic random-weight preset (`model create-demo --preset $PRESET --arch A`, each with its distinguishing
# features on), an int8 copy (`model quantize --bits 8`: block 32, asymmetric, accuracy level 4, lm_head kept), and
# measures single-stream decode tokens/s with `bench engine` for both, fp32 and int8 alternating within each round
# so drift on the machine falls on both alike. Writes $OUT/archs.md (median and range of the rounds) and the raw runs.
# Usage: bench/archs.sh   (env: PRESET=100m ARCHS="llama mistral ..." TOKENS=128 ROUNDS=3 REPEATS=1 GENAI=0
#                          OUT=bench/results/archs WORK=/tmp/llmaspire-archs)
# GENAI=1 also runs ONNX Runtime GenAI on each folder (bench engine's own comparison) and adds its columns.
# Check the script quickly with: PRESET=tiny ROUNDS=1 TOKENS=16 bench/archs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PRESET=${PRESET:-100m}
ARCHS=${ARCHS:-llama mistral qwen2 qwen3 phi3 gemma2 gemma3}
TOKENS=${TOKENS:-128}
ROUNDS=${ROUNDS:-3}
REPEATS=${REPEATS:-1}
GENAI=${GENAI:-0}
OUT=${OUT:-bench/results/archs}
WORK=${WORK:-/tmp/llmaspire-archs}
mkdir -p "$OUT" "$OUT/logs" "$WORK"

BUILD_PROJECTS=LlmAspire.Cli # the CLI alone; no stories260K (MODEL empty)
MODEL=
# shellcheck source=bench/lib.sh
source bench/lib.sh

machine_info
cat "$OUT/machine.txt"

echo "== models: preset $PRESET, fp32 and int8"
for arch in $ARCHS; do
  llmaspire model create-demo --preset "$PRESET" --arch "$arch" --out "$WORK/$arch-fp32" --force | head -1 | tee "$OUT/logs/$arch-create.txt"
  llmaspire model quantize --in "$WORK/$arch-fp32" --out "$WORK/$arch-int8" --bits 8 --force > "$OUT/logs/$arch-quantize.txt"
done

# One `bench engine` run: single stream, $TOKENS tokens, best of $REPEATS after its warm-up; prints "ours genai" tok/s.
decode() { # folder log
  local genai_flag=(--no-genai)
  [ "$GENAI" = 1 ] && genai_flag=()
  llmaspire bench engine --model "$1" --streams 1 --max-tokens "$TOKENS" --repeats "$REPEATS" "${genai_flag[@]}" | tee -a "$2" \
    | awk -F'|' '$1 + 0 == 1 { gsub(/ /, "", $2); gsub(/ /, "", $3); print $2, $3 }'
}

RUNS="$OUT/runs.tsv"
printf 'round\tarch\tdtype\tours_tok_s\tgenai_tok_s\n' > "$RUNS"
for round in $(seq 1 "$ROUNDS"); do
  for arch in $ARCHS; do
    # fp32 first in odd rounds, int8 first in even ones.
    dtypes="fp32 int8"; [ $((round % 2)) = 0 ] && dtypes="int8 fp32"
    for dtype in $dtypes; do
      read -r ours genai < <(decode "$WORK/$arch-$dtype" "$OUT/logs/$arch-$dtype.txt")
      [ -n "$ours" ] || { echo "no tok/s from bench engine for $arch $dtype; see $OUT/logs/$arch-$dtype.txt"; exit 1; }
      printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$arch" "$dtype" "$ours" "$genai" | tee -a "$RUNS"
    done
  done
done

echo "== table"
summary() { # arch dtype column -> "median (min-max)"
  awk -F'\t' -v a="$1" -v d="$2" -v c="$3" 'NR > 1 && $2 == a && $3 == d && $c != "-" { print $c }' "$RUNS" | sort -n \
    | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
            if (NR == 1) printf "%.0f", m; else printf "%.0f (%.0f-%.0f)", m, v[1], v[NR] }'
}
median() { summary "$@" | cut -d' ' -f1; }
{
  echo "# Decode tokens/s per architecture, preset $PRESET"
  echo
  echo "Single stream, $TOKENS tokens, median of $ROUNDS rounds (range), each round fp32 and int8 alternating;"
  echo "int8 = \`model quantize --bits 8\` (block 32, asymmetric, accuracy level 4, lm_head float32). $(head -1 "$OUT/machine.txt" | cut -d' ' -f2-), commit $(git rev-parse --short HEAD), $(nproc) cores."
  echo
  header="| arch | model type | parameters | fp32 tok/s | int8 tok/s | int8 / fp32 |"
  rule="|---|---|---:|---:|---:|---:|"
  if [ "$GENAI" = 1 ]; then header="$header GenAI fp32 | GenAI int8 |"; rule="$rule---:|---:|"; fi
  echo "$header"; echo "$rule"
  for arch in $ARCHS; do
    type=$(sed -n 's/.*"type": "\([^"]*\)".*/\1/p' "$WORK/$arch-fp32/genai_config.json" | head -1)
    params=$(sed -n 's/.*arch [^,]*, \([0-9,]*\) parameters.*/\1/p' "$OUT/logs/$arch-create.txt")
    fp32=$(median "$arch" fp32 4); int8=$(median "$arch" int8 4)
    ratio=$(awk -v a="$int8" -v b="$fp32" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else printf "-" }')
    row="| $arch | $type | $params | $(summary "$arch" fp32 4) | $(summary "$arch" int8 4) | $ratio |"
    [ "$GENAI" = 1 ] && row="$row $(summary "$arch" fp32 5) | $(summary "$arch" int8 5) |"
    echo "$row"
  done
} > "$OUT/archs.md"
cat "$OUT/archs.md"
