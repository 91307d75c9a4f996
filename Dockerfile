# Portico container image: built with dev dependencies, run with production ones only, as a
# non-root user on a distroless base (no shell or package manager at run time).
#
#   podman build -t portico .      (or docker build)   with the public base images below
#   npm run image                  builds this same file on bases assembled locally from Debian
#                                  packages and the registry's Node.js (docs/image.md)
#
# The bases are build arguments (image and tag apart). The build base needs a shell and node and npm
# on PATH; the run base only glibc, libstdc++, libgcc and CA certificates: it gets the build
# stage's node binary.
ARG BUILD_IMAGE=node
ARG BUILD_TAG=24-bookworm-slim
ARG RUN_IMAGE=gcr.io/distroless/cc-debian12
ARG RUN_TAG=nonroot

FROM ${BUILD_IMAGE}:${BUILD_TAG} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# node is copied as it is: no file capability. A binary with one cannot even start in a container
# whose capabilities are all dropped (execve fails with EPERM), which is the chart's default;
# ports below 1024 get NET_BIND_SERVICE from the chart instead (docs/image.md).
RUN npx tsc -p tsconfig.build.json \
 && npm prune --omit=dev --no-audit --no-fund --ignore-scripts \
 && cp "$(command -v node)" /src/node

FROM ${RUN_IMAGE}:${RUN_TAG}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="portico" \
      org.opencontainers.image.description="Kubernetes Ingress controller and Layer-7 reverse proxy: spec-exact routing, no reloads" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/portico-dev/portico"
WORKDIR /app
COPY --from=build /src/node /app/node
COPY --from=build /src/package.json /app/package.json
COPY --from=build /src/node_modules /app/node_modules
COPY --from=build /src/dist/src /app/dist/src
USER 65532:65532
EXPOSE 8080 8443 10254
ENTRYPOINT ["/app/node", "--max-semi-space-size=4", "--expose-gc", "/app/dist/src/cli.js"]
