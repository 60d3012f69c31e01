#!/usr/bin/env bash
# Runs the images that deploy/podman/build-images.sh built, as the deployment runs them: N model server containers and
# a gateway container on one Podman network, the gateway reaching each server by its network alias
# (http://modelserver-N:8080) as it reaches a Kubernetes Service. From the host it then checks what a kubelet and a
# client would: /alive and /health of every container (the liveness and readiness probes of the Kubernetes YAML), the
# model list and a completion through the gateway, and prints how long each container took to become ready.
#
#   deploy/podman/smoke.sh [--servers N] [--model DIR] [--keep]
#
# --model DIR   a converted model folder, mounted read-only at /models/<name>. Default: stories260K converted from
#               $LLMASPIRE_SHARED_DIR/models/stories260K (../shared) into artifacts/podman/models once; when that is
#               missing too, the model server's built-in demo model.
# --keep        leave the containers and the network running (the script prints how to remove them).
#
# Exit status 0 only when every check passed. The sandbox drops CAP_SYS_RESOURCE, so containers are started with
# ulimits no higher than the ones they inherit (docs: ../shared/docs/PACKAGES.md, Containers with Podman).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
readonly work="${LLMASPIRE_PODMAN_WORK:-$(pwd)/artifacts/podman}"
readonly podman="${PODMAN:-podman}"
readonly ulimits=(--ulimit nofile=20000:20000 --ulimit nproc=4096:4096)
readonly ready_timeout_s=120

servers=2
model_dir=""
keep=false
while [ $# -gt 0 ]; do
  case "$1" in
    --servers) servers="$2"; shift 2 ;;
    --model) model_dir="$2"; shift 2 ;;
    --keep) keep=true; shift ;;
    *) echo "usage: $0 [--servers N] [--model DIR] [--keep]" >&2; exit 2 ;;
  esac
done

for image in llmaspire-gateway:local llmaspire-modelserver:local; do
  if ! "$podman" image exists "$image"; then
    echo "image $image is missing: run deploy/podman/build-images.sh first" >&2
    exit 1
  fi
done

# The model: a folder given, else stories260K converted once, else the demo model.
if [ -z "$model_dir" ]; then
  shared_dir="${LLMASPIRE_SHARED_DIR:-$(cd .. && pwd)/shared}"
  stories="$shared_dir/models/stories260K"
  if [ -f "$work/models/stories260K/model.onnx" ]; then
    model_dir="$work/models/stories260K"
  elif [ -f "$stories/stories260K.bin" ]; then
    dotnet run --project LlmAspire.Cli -- model convert --llama2c "$stories/stories260K.bin" \
      --tokenizer "$stories/tok512.bin" --out "$work/models/stories260K" >/dev/null
    model_dir="$work/models/stories260K"
  fi
fi

model_args=()
if [ -n "$model_dir" ]; then
  model_dir="$(cd "$model_dir" && pwd)"
  model_name="$(basename "$model_dir")"
  model_args=(-v "$model_dir:/models/$model_name:ro" -e "ModelServer__ModelPath=/models/$model_name")
  echo "model: $model_name (mounted read-only from $model_dir)"
else
  model_name=""
  echo "model: the model server's built-in demo model (no stories260K found)"
fi

readonly prefix="llmaspire-smoke-$$"
readonly network="$prefix"
containers=()

cleanup() {
  if [ "$keep" = true ]; then
    echo "left running; remove with: $podman rm -f ${containers[*]} && $podman network rm $network"
    return
  fi
  if [ ${#containers[@]} -gt 0 ]; then
    "$podman" rm -f -t 5 "${containers[@]}" >/dev/null 2>&1 || true
  fi
  "$podman" network rm -f "$network" >/dev/null 2>&1 || true
}
trap cleanup EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# The host port Podman published for a container's 8080.
host_port() { "$podman" port "$1" 8080/tcp | sed -n '1s/.*://p'; }

# Waits until GET <url> answers 200; prints the milliseconds since <start_ms>, or fails with the container's log.
wait_ready() {
  local container="$1" url="$2" start_ms="$3"
  local deadline=$(( $(date +%s) + ready_timeout_s ))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)" = "200" ]; do
    if [ "$(date +%s)" -ge "$deadline" ] || [ "$("$podman" inspect -f '{{.State.Running}}' "$container")" != "true" ]; then
      echo "FAIL: $container never answered 200 on $url; its log:" >&2
      "$podman" logs --tail 40 "$container" >&2 || true
      return 1
    fi
    sleep 0.1
  done
  echo $(( $(now_ms) - start_ms ))
}

# GET a probe and require 200.
probe() {
  local name="$1" url="$2" code
  code="$(curl -s -o /dev/null -w '%{http_code}' "$url")"
  if [ "$code" != "200" ]; then
    echo "FAIL: $name answered $code" >&2
    return 1
  fi
  echo "ok    $name -> $code"
}

"$podman" network create "$network" >/dev/null

gateway_servers=()
for ((i = 0; i < servers; i++)); do
  name="$prefix-modelserver-$i"
  start_ms=$(now_ms)
  "$podman" run -d --name "$name" --network "$network" --network-alias "modelserver-$i" -p 127.0.0.1::8080 \
    "${ulimits[@]}" "${model_args[@]}" llmaspire-modelserver:local >/dev/null
  containers+=("$name")
  port="$(host_port "$name")"
  ms="$(wait_ready "$name" "http://127.0.0.1:$port/health" "$start_ms")"
  echo "ready modelserver-$i in ${ms} ms (podman run to /health 200; host port $port)"
  gateway_servers+=(-e "Gateway__ModelServers__$i=http://modelserver-$i:8080")
  server_ports[i]="$port"
done

name="$prefix-gateway"
start_ms=$(now_ms)
"$podman" run -d --name "$name" --network "$network" --network-alias gateway -p 127.0.0.1::8080 \
  "${ulimits[@]}" "${gateway_servers[@]}" llmaspire-gateway:local >/dev/null
containers+=("$name")
gateway_port="$(host_port "$name")"
ms="$(wait_ready "$name" "http://127.0.0.1:$gateway_port/health" "$start_ms")"
echo "ready gateway in ${ms} ms (podman run to /health 200; host port $gateway_port)"
readonly gateway="http://127.0.0.1:$gateway_port"

for ((i = 0; i < servers; i++)); do
  probe "modelserver-$i /alive" "http://127.0.0.1:${server_ports[i]}/alive"
  probe "modelserver-$i /health" "http://127.0.0.1:${server_ports[i]}/health"
done
probe "gateway /alive" "$gateway/alive"
probe "gateway /health" "$gateway/health"

models="$(curl -sf "$gateway/v1/models")"
echo "ok    gateway /v1/models -> $models"
if [ -z "$model_name" ]; then
  model_name="$(printf '%s' "$models" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')"
fi

# One completion per server through the gateway (each a fresh prompt, so the response cache answers none of them).
for ((i = 0; i < servers; i++)); do
  body="{\"model\":\"$model_name\",\"prompt\":\"Once upon a time $i\",\"max_tokens\":16,\"temperature\":0}"
  start_ms=$(now_ms)
  response="$(curl -sf -H 'Content-Type: application/json' -d "$body" "$gateway/v1/completions")"
  ms=$(( $(now_ms) - start_ms ))
  text="$(printf '%s' "$response" | sed -n 's/.*"text":"\([^"]*\)".*/\1/p')"
  if [ -z "$text" ]; then
    echo "FAIL: the completion through the gateway had no text: $response" >&2
    exit 1
  fi
  echo "ok    gateway /v1/completions in ${ms} ms -> \"$text\""
done

# Which server answered: each model server's vLLM-style request counter (its /metrics, read from the host).
for ((i = 0; i < servers; i++)); do
  served="$(curl -s "http://127.0.0.1:${server_ports[i]}/metrics" \
    | awk '/^vllm:request_success_total/ { sum += $NF } END { print sum + 0 }')"
  echo "      modelserver-$i served $served request(s)"
done

"$podman" images --filter reference='localhost/llmaspire-*' --format '{{.Repository}}:{{.Tag}}  {{.Size}}'
echo "PASS: $servers model server container(s) and the gateway container are ready and answer through the gateway"
