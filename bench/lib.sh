# Shared by bench/run-all.sh, bench/soak.sh and bench/archs.sh (sourced after they set ROOT, OUT, MODEL and SHARED):
# builds the Release binaries ($BUILD_PROJECTS, all three by default), converts stories260K once (when MODEL is set),
# and starts/stops processes on 127.0.0.1 that are stopped on exit.
# Defines CLI, MS and GATEWAY (the built assemblies), llmaspire, start NAME CMD..., wait_healthy URL, stop_all and
# machine_info (writes $OUT/machine.txt: date, commit, cores, cpu, load before the run).
# start writes each process's output to $OUT/logs/$LOG_PREFIX$NAME.log.

machine_info() {
  { echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"; echo "commit: $(git rev-parse --short HEAD)"; echo "cores: $(nproc)";
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"; echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"; } > "$OUT/machine.txt"
}

echo "== build (Release)"
for project in ${BUILD_PROJECTS:-LlmAspire.Cli LlmAspire.ModelServer LlmAspire.Gateway}; do
  dotnet build -c Release "$project" -warnaserror -v q -nologo > "$OUT/logs/build-$project.log" 2>&1 || { tail -20 "$OUT/logs/build-$project.log"; exit 1; }
done
dll() { find "$ROOT/$1/bin/Release" -name "$2" -path '*net10.0*' 2>/dev/null | head -1 || true; }
CLI=$(dll LlmAspire.Cli llmaspire.dll)
MS=$(dll LlmAspire.ModelServer LlmAspire.ModelServer.dll)
GATEWAY=$(dll LlmAspire.Gateway LlmAspire.Gateway.dll)
llmaspire() { dotnet "$CLI" "$@"; }

if [ -n "${MODEL:-}" ] && [ ! -f "$MODEL/genai_config.json" ]; then
  echo "== convert stories260K"
  llmaspire model convert --llama2c "$SHARED/stories260K.bin" --tokenizer "$SHARED/tok512.bin" --out "$MODEL"
fi

PIDS=()
stop_all() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && wait "$pid" 2>/dev/null || true; done
}
trap stop_all EXIT
start() { local name=$1; shift; "$@" > "$OUT/logs/${LOG_PREFIX:-}$name.log" 2>&1 & PIDS+=($!); }
wait_healthy() {
  for _ in $(seq 1 240); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1/health")" = 200 ] && return 0; sleep 1
  done
  echo "not healthy: $1"; exit 1
}
