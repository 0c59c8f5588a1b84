# syntax=docker/dockerfile:1
# One image, three ways to run it (README "Deploy"): `serve` (the default command), `reconcile`
# (the scheduled ECS task), `plan` (the dry-run report on stdout). test/deploy/container.test.ts
# runs what this file runs, without a Docker engine.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only; no package needs an install script, and skipping them keeps the
# image free of anything a dev dependency's postinstall might leave behind.
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
# The slim image has no curl: the health check is a one-line node fetch. ECS ignores a Dockerfile
# HEALTHCHECK, so config/deploy/ecs-task-definition.json repeats it for the serve container.
ENV LF_SYNC_HEALTHCHECK_URL=http://127.0.0.1:8080/healthz
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
COPY config ./config
# Files stay root-owned and read-only for the process; only .data is its own, for the embedded
# demo database (`docker run --rm IMAGE demo`, config/demo.yaml's dataDir).
RUN install -d -o node -g node /app/.data
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.LF_SYNC_HEALTHCHECK_URL).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["serve", "--config", "/etc/lf-redshift-sync/config.yaml"]
