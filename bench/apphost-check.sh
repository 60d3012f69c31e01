#!/usr/bin/env bash
# bench serve against the real AppHost topology (Debug builds, default gateway policy): the gateway vs modelserver-0
# directly, A B A B, plus the chat endpoint through the gateway. Writes bench/results/apphost.md.
# Usage: bench/apphost-check.sh      (env: SERVERS=2 GATEWAY_PORT=18280 PROMPTS=100; run bench/run-all.sh first for the Release CLI and the model)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD; OUT=${OUT:-bench/results}; PORT=${GATEWAY_PORT:-18280}; PROMPTS=${PROMPTS:-100}
mkdir -p "$OUT/logs"
CLI=$(find "$ROOT/LlmAspire.Cli/bin/Release" -name llmaspire.dll | head -1)
dotnet build LlmAspire.AppHost -warnaserror -v q -nologo > "$OUT/logs/build-apphost.log"
dotnet run --project LlmAspire.AppHost --no-build -- --LlmAspire:ModelPath="$ROOT/models/stories260K" \
  --LlmAspire:ModelServers="${SERVERS:-2}" --LlmAspire:GatewayPort="$PORT" > "$OUT/logs/apphost.log" 2>&1 &
RUN_PID=$!
stop() { # SIGTERM to the AppHost process, then wait for it, its dcp monitors and `dotnet run` to exit
  local host; host=$(pgrep -P "$RUN_PID" || true)
  [ -n "$host" ] && kill -TERM "$host" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 1; done
  [ -n "$host" ] && for p in $(pgrep -f -- "--monitor $host" || true); do while kill -0 "$p" 2>/dev/null; do sleep 1; done; done
}
trap stop EXIT
for _ in $(seq 1 180); do [ "$(curl -s -o /dev/null -w '%{http_code}' "http://localhost:$PORT/health")" = 200 ] && break; sleep 1; done
# modelserver-0's own port, from the environment the AppHost gave it
MS0=""
for p in $(pgrep -f LlmAspire.ModelServer); do
  [ "$(readlink "/proc/$p/cwd")" = "$ROOT/LlmAspire.ModelServer" ] || continue
  env=$(tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null || true)
  if grep -qx 'OTEL_SERVICE_NAME=modelserver-0' <<< "$env"; then MS0=$(grep '^ASPNETCORE_URLS=' <<< "$env" | cut -d= -f2 | cut -d';' -f1); fi
done
[ -n "$MS0" ] || { echo "modelserver-0 not found"; exit 1; }
echo "gateway http://localhost:$PORT, modelserver-0 $MS0"
A=(--dataset random --random-input-len 32 --random-output-len 64 --num-prompts "$PROMPTS" --warmup 50 --max-concurrency 4 --goodput ttft:500 tpot:50)
run() { dotnet "$CLI" bench serve --label "$1" --base-url "$2" --result-json "$OUT/$1.json" "${A[@]}" "${@:3}" > "$OUT/logs/$1.txt"; }
run apphost-direct "$MS0" --seed 61
run apphost-gateway "http://localhost:$PORT" --seed 62
run apphost-direct-2 "$MS0" --seed 63
run apphost-gateway-2 "http://localhost:$PORT" --seed 64
run apphost-gateway-chat "http://localhost:$PORT/v1" --endpoint chat --seed 65
dotnet "$CLI" bench compare "$OUT"/apphost-{direct,gateway,direct-2,gateway-2,gateway-chat}.json --markdown "$OUT/apphost.md"
for f in "$OUT"/apphost-*.json; do python3 -c "import json,sys; d=json.load(open(sys.argv[1])); [r.pop('requests', None) for r in d['runs']]; json.dump(d, open(sys.argv[1], 'w'), indent=1)" "$f"; done
