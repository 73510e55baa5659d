# Ferry image (controller and CSI node plugin). Node 24 LTS, the same major the project pins for
# development.

# The CSI protocol files come from the Go modules that publish them, as in provisioning.
FROM golang:1.26-bookworm AS protos
RUN set -eux; \
    spec=$(go mod download -json github.com/container-storage-interface/spec@v1.12.0 | sed -n 's/.*"Dir": "\(.*\)",/\1/p'); \
    kubelet=$(go mod download -json k8s.io/kubelet@v0.35.4 | sed -n 's/.*"Dir": "\(.*\)",/\1/p'); \
    mkdir -p /protos; \
    cp "$spec/csi.proto" "$spec/LICENSE" /protos/; \
    cp "$kubelet/pkg/apis/pluginregistration/v1/api.proto" /protos/pluginregistration.proto

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY crds ./crds
COPY --from=protos /protos /usr/share/ferry/proto
ENV FERRY_PROTO_DIR=/usr/share/ferry/proto
# The controller runs as node; `ferry csi-node` must run as root (it mounts tmpfs), which the
# DaemonSet sets with runAsUser: 0.
USER node
# Same flag as the ferry bin: see src/main.ts.
ENTRYPOINT ["node", "--max-semi-space-size=4", "/app/dist/main.js"]
CMD ["controller"]
