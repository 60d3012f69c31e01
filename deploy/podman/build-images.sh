#!/usr/bin/env bash
# Builds the gateway and model server images with Podman on a machine that cannot reach any registry: no base image is
# pulled. The base is made from files this machine has (glibc, libstdc++, OpenSSL, the CA bundle: whatever `ldd`
# says the published apps load), and each app is a self-contained `dotnet publish -r linux-x64`, so the images need
# no .NET runtime image either. The images for real registries still come from the project files
# (/t:PublishContainer on mcr.microsoft.com/dotnet/aspnet) and deploy/docker; these are for running here.
#
#   deploy/podman/build-images.sh            llmaspire-base:local, llmaspire-gateway:local, llmaspire-modelserver:local
#   deploy/podman/build-images.sh --redis    also docker.io/library/redis:8.6 from this machine's redis-server
#
# The Redis image carries the name and tag Aspire.Hosting.Redis 13.6.5 runs (docker.io/library/redis:8.6), so an
# AppHost with LlmAspire:RedisMode=container finds it locally instead of pulling; the server inside is whatever
# version the host has (Debian 12: 7.0), which the label io.llmaspire.redis-version records.
#
# Environment: LLMASPIRE_PODMAN_WORK (the staging folder, default artifacts/podman), PODMAN (default podman).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo_root="$(pwd)"
readonly work="${LLMASPIRE_PODMAN_WORK:-$repo_root/artifacts/podman}"
readonly podman="${PODMAN:-podman}"
readonly tag="local"
# The same unprivileged user the mcr.microsoft.com/dotnet images run as.
readonly app_uid=1654

with_redis=false
for arg in "$@"; do
  case "$arg" in
    --redis) with_redis=true ;;
    *) echo "usage: $0 [--redis]" >&2; exit 2 ;;
  esac
done

# Shared libraries an ELF file loads, as the paths ldd resolves them to (the loader itself included).
elf_dependencies() {
  ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }'
}

# Copies a file into a root file system at the same path, following symbolic links (the root has no /lib -> usr/lib).
copy_into_root() {
  local root="$1" file="$2"
  mkdir -p "$root$(dirname "$file")"
  cp -L "$file" "$root$file"
}

# Publishes one app self-contained for linux-x64 into $work/<name>/app.
publish() {
  local project="$1" name="$2"
  rm -rf "${work:?}/$name"
  mkdir -p "$work/$name"
  # Invariant globalization: the images carry no ICU (the services format no culture-specific text).
  dotnet publish "$project" -c Release -r linux-x64 --self-contained true -p:InvariantGlobalization=true \
    -o "$work/$name/app" -nologo -v quiet
}

# The ELF files of a publish folder whose dependencies the base must hold. The CUDA and TensorRT execution providers
# are left out of the CPU image (280 MB; they load only with CUDA present, and without them ModelServer's `auto`
# falls back to the CPU provider), as is the LTTng trace provider (it needs liblttng-ust, which the image lacks).
app_elves() {
  find "$1" -maxdepth 1 -type f \( -name '*.so' -o -perm -u+x \) \
    ! -name 'libonnxruntime_providers_cuda.so' ! -name 'libonnxruntime_providers_tensorrt.so' \
    ! -name 'libcoreclrtraceptprovider.so' -print | while read -r file; do
      if head -c 4 "$file" | grep -q 'ELF'; then echo "$file"; fi
    done
}

prune_app() {
  rm -f "$1"/libonnxruntime_providers_cuda.so "$1"/libonnxruntime_providers_tensorrt.so "$1"/libcoreclrtraceptprovider.so
}

build_base() {
  local root="$work/base/rootfs"
  rm -rf "${work:?}/base"
  mkdir -p "$root/tmp" "$root/etc/ssl/certs" "$root/app"
  chmod 1777 "$root/tmp"

  {
    for app in gateway modelserver; do
      app_elves "$work/$app/app" | while read -r elf; do elf_dependencies "$elf"; done
    done
    # Loaded with dlopen, so ldd does not list them: OpenSSL (System.Security.Cryptography.Native.OpenSsl: hashing,
    # TLS to the hub) and zlib (System.IO.Compression.Native falls back to it where zlib-ng is not bundled).
    for soname in libssl.so.3 libcrypto.so.3 libz.so.1; do
      /sbin/ldconfig -p | awk -v n="$soname" '$1 == n && /x86-64/ { print $NF; exit }'
    done
  } | grep -v "^$work/" | sort -u | while read -r library; do
    copy_into_root "$root" "$library"
    # Libraries that the dlopened ones need in turn.
    elf_dependencies "$library" | while read -r dependency; do copy_into_root "$root" "$dependency"; done
  done

  cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  printf 'root:x:0:0:root:/root:/sbin/nologin\napp:x:%s:%s:app:/app:/sbin/nologin\n' "$app_uid" "$app_uid" > "$root/etc/passwd"
  printf 'root:x:0:\napp:x:%s:\n' "$app_uid" > "$root/etc/group"
  # Podman writes /etc/hosts and /etc/resolv.conf into each container; glibc needs to be told to read them.
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$root/etc/nsswitch.conf"

  cat > "$work/base/Containerfile" <<'EOF'
FROM scratch
COPY rootfs/ /
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
EOF
  "$podman" build --pull=never -q -t "llmaspire-base:$tag" -f "$work/base/Containerfile" "$work/base" >/dev/null
}

build_app() {
  local name="$1" entrypoint="$2" environment="$3"
  prune_app "$work/$name/app"
  cat > "$work/$name/Containerfile" <<EOF
FROM llmaspire-base:$tag
COPY --chown=$app_uid:$app_uid app/ /app/
ENV ASPNETCORE_HTTP_PORTS=8080 \\
    DOTNET_RUNNING_IN_CONTAINER=true \\
    DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=true$environment
WORKDIR /app
USER $app_uid
EXPOSE 8080
ENTRYPOINT ["/app/$entrypoint"]
EOF
  "$podman" build --pull=never -q -t "llmaspire-$name:$tag" -f "$work/$name/Containerfile" "$work/$name" >/dev/null
}

build_redis() {
  local root="$work/redis/rootfs" version
  rm -rf "${work:?}/redis"
  mkdir -p "$root/data" "$root/usr/bin" "$root/bin" "$root/etc"
  version="$(redis-server --version | sed -n 's/.* v=\([0-9.]*\).*/\1/p')"
  # Aspire starts Redis as `/bin/sh -c "redis-server --requirepass $REDIS_PASSWORD ..."`, so the image needs a shell.
  cp -L "$(command -v redis-server)" "$root/usr/bin/redis-server"
  cp -L /bin/sh "$root/bin/sh"
  for elf in "$root/usr/bin/redis-server" "$root/bin/sh"; do
    elf_dependencies "$elf" | while read -r library; do copy_into_root "$root" "$library"; done
  done
  chown -R 999:999 "$root/data"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nredis:x:999:999:redis:/data:/sbin/nologin\n' > "$root/etc/passwd"
  cat > "$work/redis/Containerfile" <<EOF
FROM scratch
COPY rootfs/ /
LABEL io.llmaspire.redis-version="$version" io.llmaspire.built-from="$(command -v redis-server)"
ENV PATH=/usr/bin:/bin
WORKDIR /data
USER 999
EXPOSE 6379
CMD ["redis-server", "--protected-mode", "no"]
EOF
  "$podman" build --pull=never -q -t docker.io/library/redis:8.6 -f "$work/redis/Containerfile" "$work/redis" >/dev/null
}

elapsed() { echo "$(( $(date +%s) - $1 ))s"; }

# The images these tags name now: once rebuilt, the old ones would linger untagged, so they are removed at the end.
previous_images=()
for image in llmaspire-gateway:$tag llmaspire-modelserver:$tag docker.io/library/redis:8.6 llmaspire-base:$tag; do
  if id="$("$podman" image inspect --format '{{.Id}}' "$image" 2>/dev/null)"; then previous_images+=("$id"); fi
done

start=$(date +%s)
publish LlmAspire.Gateway/LlmAspire.Gateway.csproj gateway
publish LlmAspire.ModelServer/LlmAspire.ModelServer.csproj modelserver
echo "published both apps self-contained in $(elapsed "$start")"

start=$(date +%s)
build_base
build_app gateway LlmAspire.Gateway ""
# A CPU image: the CUDA provider is not in it (see app_elves), so ask for the CPU provider outright.
build_app modelserver LlmAspire.ModelServer $' \\\n    ModelServer__ExecutionProvider=cpu'
if [ "$with_redis" = true ]; then
  build_redis
fi
echo "built the images in $(elapsed "$start")"

# Apps before the base they were built on; an image still tagged or used by a container stays.
for id in "${previous_images[@]}"; do
  if [ -z "$("$podman" image inspect --format '{{.RepoTags}}' "$id" 2>/dev/null | tr -d '[]')" ]; then
    "$podman" rmi "$id" >/dev/null 2>&1 || true
  fi
done

"$podman" images --filter reference='localhost/llmaspire-*' --filter reference='docker.io/library/redis' \
  --format '{{.Repository}}:{{.Tag}}  {{.Size}}'
