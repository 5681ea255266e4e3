# DoraOperator image: the operator compiled ahead of time (Native AOT) into one self-contained
# binary, run on the runtime-deps base (no .NET runtime in the image) as a non-root user.
#   docker build -t dora-operator:dev .
# No shell is needed at run time: the entrypoint is the binary itself.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
# The Native AOT toolchain links with clang and needs zlib's headers.
RUN apt-get update && apt-get install -y --no-install-recommends clang zlib1g-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Restore first, from the project files only, so the layer is reused until a dependency changes.
COPY global.json Directory.Build.props Directory.Packages.props BannedSymbols.txt .editorconfig ./
COPY src/Entities/Entities.csproj src/Entities/
COPY src/Kube/Kube.csproj src/Kube/
COPY src/Sandbox/Sandbox.csproj src/Sandbox/
COPY src/Operator/Operator.csproj src/Operator/
RUN dotnet restore src/Operator/Operator.csproj -r linux-x64 -p:PublishAot=true
COPY src/ src/
RUN dotnet publish src/Operator/Operator.csproj -c Release -r linux-x64 --no-restore -p:PublishAot=true -o /app \
 && rm -f /app/*.dbg /app/*.pdb /app/*.xml /app/*.json

FROM mcr.microsoft.com/dotnet/runtime-deps:10.0 AS runtime
WORKDIR /app
COPY --from=build /app/DoraOperator.Operator ./
# The base image's non-root user (UID 1654 "app"); the chart runs it as that UID with a read-only root filesystem.
USER 1654
ENV DOTNET_EnableDiagnostics=0 \
    ASPNETCORE_URLS=
EXPOSE 8080
ENTRYPOINT ["/app/DoraOperator.Operator"]
