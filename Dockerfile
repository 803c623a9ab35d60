# syntax=docker/dockerfile:1
#
# One image per CDP service, selected with the SERVICE build arg:
#   docker build --build-arg SERVICE=collector -t cdp-collector .
# SERVICE is one of: collector, normalizer, identity-resolver, profile-store, segmenter.
# See deploy/docker/README.md and docker-compose.yml.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------
# builder: full workspace, dev dependencies, Nx build (runs contracts:codegen first)
# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS builder
ARG SERVICE
ENV NX_NO_CLOUD=true \
    NX_DAEMON=false \
    SCARF_ANALYTICS=false \
    NX_TUI=false \
    CI=true \
    npm_config_fund=false \
    npm_config_audit=false \
    npm_config_update_notifier=false
WORKDIR /workspace

RUN case "${SERVICE}" in \
      collector|normalizer|identity-resolver|profile-store|segmenter) ;; \
      *) echo "Build arg SERVICE must be one of: collector normalizer identity-resolver profile-store segmenter (got '${SERVICE}')" >&2; exit 1 ;; \
    esac

# Dependencies first so this layer is cached until the lock file changes.
COPY package.json package-lock.json ./
RUN npm ci

COPY . .
RUN npx nx build "${SERVICE}" --skip-nx-cache \
 && test -f "dist/apps/${SERVICE}/main.js" \
 && test -f "dist/apps/${SERVICE}/package.json"

# ---------------------------------------------------------------------------
# runtime: the bundled service plus its production dependencies only
# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
ENV NODE_ENV=production \
    CDP_SERVICE=${SERVICE} \
    npm_config_fund=false \
    npm_config_audit=false \
    npm_config_update_notifier=false
WORKDIR /app

# dist/apps/<service>: main.js, generated package.json (+ pruned package-lock.json).
COPY --from=builder /workspace/dist/apps/${SERVICE}/ ./
COPY deploy/docker/healthcheck.cjs /usr/local/lib/cdp/healthcheck.cjs

# Prefer the Nx-pruned lock file; if it is missing or npm ci rejects it, resolve from package.json.
# Files stay owned by root (read-only for the runtime user). npm is removed afterwards:
# the image only needs `node`.
RUN set -eux; \
    if [ -f package-lock.json ] && npm ci --omit=dev --ignore-scripts; then \
      echo "installed from generated package-lock.json"; \
    else \
      rm -rf node_modules package-lock.json; \
      npm install --omit=dev --ignore-scripts --no-package-lock; \
    fi; \
    npm cache clean --force; \
    rm -rf /root/.npm /tmp/* \
      /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg

# Numeric uid/gid of the image's `node` user: Kubernetes can only verify runAsNonRoot for a numeric USER.
USER 1000:1000

# Defaults: collector 3001, normalizer 3002, identity-resolver 3003, profile-store 3004, segmenter 3005
# (override with PORT).
EXPOSE 3001 3002 3003 3004 3005

HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/usr/local/lib/cdp/healthcheck.cjs", "/health/live"]

CMD ["node", "main.js"]
