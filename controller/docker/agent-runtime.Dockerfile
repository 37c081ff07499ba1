# The agent-runtime image: one self-contained program (node controller/build.mjs → dist/image/agent-runtime.mjs).
# Build from the repository root:
#   node controller/build.mjs && docker build -f controller/docker/agent-runtime.Dockerfile -t ghcr.io/aegis/agent-runtime:0.1.0 .
FROM node:20-bookworm-slim
WORKDIR /app
COPY controller/dist/image/agent-runtime.mjs /app/agent-runtime.mjs
# No shell tricks, no root: the Deployments also set runAsNonRoot, a read-only root filesystem and drop
# every capability.
USER 10001:10001
ENV NODE_ENV=production
ENTRYPOINT ["node", "/app/agent-runtime.mjs"]
