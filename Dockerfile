# syntax=docker/dockerfile:1
# One image, three ways to run it (README "Deploy"): `serve` (the default command), `reconcile`
# (the scheduled ECS task), `plan` (the dry-run report on stdout). test/deploy/container.test.ts
# runs what this file runs, without a Docker engine.
#
# The base image is Node 22 on Debian bookworm, pinned by digest (the same in every stage) so that a
# rebuild gets the same image. To move the pin: `docker buildx imagetools inspect node:22-bookworm-slim`
# and replace the digest in the three FROM lines.

FROM node:22-bookworm-slim@sha256:43ac6c60b8f89723f746e8a92ce91abd5017e627ce1ddfe4238355d3a30b772c AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only; no package needs an install script, and skipping them keeps the
# image free of anything a dev dependency's postinstall might leave behind. Optional dependencies
# are left out too: PGlite (the demo's embedded database) is the only one, and the service loads it
# on first use, failing with a message that names it when a config asks for a pglite target.
FROM node:22-bookworm-slim@sha256:43ac6c60b8f89723f746e8a92ce91abd5017e627ce1ddfe4238355d3a30b772c AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

FROM node:22-bookworm-slim@sha256:43ac6c60b8f89723f746e8a92ce91abd5017e627ce1ddfe4238355d3a30b772c AS runtime
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
# Files stay root-owned and read-only for the process. Signals: ECS runs an init as PID 1
# (initProcessEnabled in config/deploy/ecs-task-definition.json), which forwards SIGTERM to node.
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.LF_SYNC_HEALTHCHECK_URL).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["serve", "--config", "/etc/lf-redshift-sync/config.yaml"]
