# The GPU model server: CUDA 13 + cuDNN 9 runtime, the .NET 10 ASP.NET Core runtime, and LlmAspire.ModelServer
# published with ONNX Runtime's GPU native libraries (Microsoft.ML.OnnxRuntime.Gpu.Linux).
# Build from the repository root (not buildable on the development machines: they have no Docker engine):
#   docker build -f deploy/docker/modelserver-cuda.Dockerfile -t llmaspire-modelserver-cuda:latest .
#
# Versions, kept in step with the repository by LlmAspire.Tests/Deployment/DockerfileVersionTests.cs:
#   .NET SDK 10.0.401 (global.json), ASP.NET Core runtime 10.0, ONNX Runtime 1.31.0 (Directory.Packages.props).
ARG DOTNET_SDK_VERSION=10.0.401
ARG DOTNET_RUNTIME_VERSION=10.0
ARG ONNXRUNTIME_VERSION=1.31.0
ARG CUDA_IMAGE=nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_SDK_VERSION} AS build
WORKDIR /src
COPY . .
RUN dotnet publish LlmAspire.ModelServer/LlmAspire.ModelServer.csproj -c Release -r linux-x64 --self-contained false \
      -p:UseAppHost=false -o /app

# The ASP.NET Core runtime, copied onto the CUDA image (the .NET images are not CUDA images).
FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_RUNTIME_VERSION} AS dotnet

FROM ${CUDA_IMAGE}
ARG ONNXRUNTIME_VERSION
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libicu74 libssl3t64 zlib1g \
    && rm -rf /var/lib/apt/lists/*
COPY --from=dotnet /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
ENV DOTNET_ROOT=/usr/share/dotnet \
    ASPNETCORE_HTTP_PORTS=8080 \
    ModelServer__ExecutionProvider=cuda \
    ModelServer__CacheDirectory=/var/cache/llmaspire \
    LLMASPIRE_ONNXRUNTIME_VERSION=${ONNXRUNTIME_VERSION}
WORKDIR /app
# libonnxruntime.so and libonnxruntime_providers_cuda.so come with the publish output (runtimes/linux-x64/native).
COPY --from=build /app .
RUN useradd --uid 1654 --create-home app && mkdir -p /var/cache/llmaspire && chown app /var/cache/llmaspire
USER 1654
EXPOSE 8080
ENTRYPOINT ["dotnet", "LlmAspire.ModelServer.dll"]
