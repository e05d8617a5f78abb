# Vigil: the operator (`vigil operator`) and the offline scanner (`vigil scan`) in one image.
#
#   docker build -t ghcr.io/vigil-dev/vigil:0.1.0 .
#   docker run --rm --read-only -v "$PWD:/in:ro" ghcr.io/vigil-dev/vigil:0.1.0 scan /in
#
# The TypeScript sources run directly on Node 24 (type stripping): there is no compile step, the
# image holds operator/src as written. Node does not strip types under node_modules; Vigil's own
# sources are not there.
#
# Base images are pinned. The build stage is pinned to the exact Node release the repository
# develops with (package.json devDependencies.node); the runtime stage, whose distroless tags are
# not per-release, is pinned by digest. The digest is that of :nonroot as referenced by public
# Dockerfiles when this was written; it was not resolved from the build environment, so verify it
# (`docker buildx imagetools inspect gcr.io/distroless/nodejs24-debian12:nonroot`) and keep both
# pins current with Renovate or Dependabot. A wrong or withdrawn digest fails the build; it never
# silently pulls something else.

# ---- build: production dependencies, with the full Node toolchain (npm) ----
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Exactly the lockfile. No package in the production tree has an install script, and dev-only
# packages with one (the `node` binary package, testcontainers' native helpers) are not needed,
# so scripts stay off. Then drop the dev dependencies.
# Source maps and type declarations are never loaded at runtime: dropping them halves
# node_modules (about 95 MB to 49 MB, mostly @kubernetes/client-node's generated API).
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && find node_modules -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete
COPY bin ./bin
COPY operator/src ./operator/src
COPY data ./data
# Smoke test with the production tree only: the CLI, the whole rule registry and the operator
# (Kubernetes client, metrics, logging) load.
RUN node bin/vigil.js version \
 && node bin/vigil.js rules > /dev/null \
 && node bin/vigil.js operator --help > /dev/null

# ---- runtime: distroless (no shell, no package manager), non-root ----
FROM gcr.io/distroless/nodejs24-debian12:nonroot@sha256:14d42e2511532589a7c7e01a753667a74fcc96266e137e8125006b87b0c32d0a AS runtime
LABEL org.opencontainers.image.title="vigil" \
      org.opencontainers.image.description="Kubernetes security operator and offline manifest scanner" \
      org.opencontainers.image.source="https://github.com/vigil-dev/vigil" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
# Nothing is written at runtime: the image works with a read-only root filesystem. TMPDIR points at
# /tmp, which the Deployment backs with a small emptyDir, should a library ever need scratch space.
ENV NODE_ENV=production \
    TMPDIR=/tmp
# Owned by root and not writable by the runtime user: the process cannot modify its own code,
# even where the root filesystem is left writable (docker run without --read-only).
COPY --from=build --chown=0:0 /app/package.json ./package.json
COPY --from=build --chown=0:0 /app/node_modules ./node_modules
COPY --from=build --chown=0:0 /app/bin ./bin
COPY --from=build --chown=0:0 /app/operator/src ./operator/src
COPY --from=build --chown=0:0 /app/data ./data
# distroless "nonroot", numeric so that Kubernetes can verify runAsNonRoot.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/vigil.js"]
CMD ["operator"]
