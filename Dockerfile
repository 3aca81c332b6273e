# scim-graph-bridge container image. Build from the repository root:
#   docker build -t scim-graph-bridge .
#   docker run -p 8080:8080 -v bridge-data:/data scim-graph-bridge
# The image runs as the unprivileged `node` user and keeps its SQLite database (and the embedded
# simulator's CA, when no tenant is configured) in the /data volume. See docs/operations.md.

# Build stage: all dependencies (npm ci builds dist/ through "prepare", with the TypeScript compiler),
# then the dev dependencies are pruned. A compiler is there in case better-sqlite3 has no prebuilt
# binary for the platform.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY schemas ./schemas
COPY src ./src
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

# Runtime stage: the compiled CLI, production dependencies and the schemas it reads; no compiler.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    BRIDGE_HOST=0.0.0.0 \
    BRIDGE_PORT=8080 \
    BRIDGE_DATABASE=/data/bridge.sqlite
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY schemas ./schemas
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.BRIDGE_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/scim-graph-bridge.js"]
CMD ["serve"]
