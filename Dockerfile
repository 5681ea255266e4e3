# DoraOperator image: build with the .NET SDK, run on the ASP.NET Core runtime as a non-root user.
#   docker build -t dora-operator:dev .
# No shell is needed at run time: the entrypoint execs dotnet directly.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files only, so the layer is reused until a dependency changes.
COPY global.json Directory.Build.props Directory.Packages.props BannedSymbols.txt .editorconfig ./
COPY src/Entities/Entities.csproj src/Entities/
COPY src/Kube/Kube.csproj src/Kube/
COPY src/Sandbox/Sandbox.csproj src/Sandbox/
COPY src/Operator/Operator.csproj src/Operator/
RUN dotnet restore src/Operator/Operator.csproj
COPY src/ src/
RUN dotnet publish src/Operator/Operator.csproj -c Release --no-restore -o /app /p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# The runtime image's non-root user (UID 1654 "app"); the chart runs it as that UID with a read-only root filesystem.
USER 1654
ENV DOTNET_gcServer=0 \
    DOTNET_EnableDiagnostics=0 \
    ASPNETCORE_URLS=
EXPOSE 8080
ENTRYPOINT ["dotnet", "DoraOperator.Operator.dll"]
