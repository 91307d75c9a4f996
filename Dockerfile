# Portico container image: built with dev dependencies, run with production ones only, as a
# non-root user on a distroless base (no shell or package manager at run time).
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json \
 && npm prune --omit=dev --no-audit --no-fund \
 && apt-get update \
 && apt-get install -y --no-install-recommends libcap2-bin \
 && cp "$(command -v node)" /src/node \
 && setcap cap_net_bind_service=+ep /src/node \
 && rm -rf /var/lib/apt/lists/*

FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="portico" \
      org.opencontainers.image.description="Kubernetes Ingress controller and Layer-7 reverse proxy: spec-exact routing, no reloads" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/portico-dev/portico"
WORKDIR /app
# The node binary carries cap_net_bind_service so a non-root pod on the host network can bind 80/443.
COPY --from=build /src/node /app/node
COPY --from=build /src/package.json /app/package.json
COPY --from=build /src/node_modules /app/node_modules
COPY --from=build /src/dist/src /app/dist/src
USER 65532:65532
EXPOSE 8080 8443 10254
ENTRYPOINT ["/app/node", "--max-semi-space-size=4", "--expose-gc", "/app/dist/src/cli.js"]
