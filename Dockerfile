# The isms worker image: `docker build -t isms-worker .`, then `docker run isms-worker <isms command>` (default: worker).
# The Node version is the project's pinned `node` dev dependency (package.json); test/worker/production-shape.test.ts
# holds the two equal and checks the rest of this file's shape.

# Production dependencies only, resolved from the lock file. No install scripts run: the only ones are @swc/core's
# (its binary arrives as the platform package anyway) and protobufjs's (a version notice).
FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:24.21.0-bookworm-slim AS runtime
# tini runs as PID 1 and passes SIGTERM on to Node. Node as PID 1 would get no default signal actions: until a command
# installs its own handlers (`isms worker` only once its config is loaded and Temporal connected; most commands never)
# a SIGTERM would be ignored and `docker stop` would wait for its SIGKILL. tini also reaps orphaned children.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
# The runtime files only, owned by root so the worker cannot change its own code.
COPY package.json ./
COPY bin/ ./bin/
COPY activities/ ./activities/
COPY core/ ./core/
COPY checks/ ./checks/
COPY config/ ./config/
COPY connectors/ ./connectors/
COPY evidence/ ./evidence/
COPY workflows/ ./workflows/
COPY worker/ ./worker/
# The worker's local disk: evidence staging (and, on the embedded default, the SQLite catalog and blobs).
RUN mkdir -p /var/lib/isms && chown node:node /var/lib/isms
USER node
ENV ISMS_CONFIG=/etc/isms/isms.yaml
# A worker serves nothing to probe: it polls Temporal. Its liveness is Temporal's to see (the task queue's pollers,
# heartbeat timeouts); a worker that cannot reach Temporal or its catalog at start exits 3 for the restart policy.
HEALTHCHECK NONE
LABEL org.opencontainers.image.title="isms-worker" \
      org.opencontainers.image.description="Unattended worker that keeps an ISO 27001 ISMS alive: scheduled evidence collection, checks and a nonconformity register on Temporal" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0"
# The `isms` CLI with worker/node-flags.ts WORKER_NODE_FLAGS, as `npm run isms` runs it.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--max-semi-space-size=16", "worker/cli.ts"]
CMD ["worker"]
