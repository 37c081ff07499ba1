# The controller image: one self-contained program (node controller/build.mjs → dist/image/controller.mjs).
# Build from the repository root:
#   node controller/build.mjs && docker build -f controller/docker/controller.Dockerfile -t ghcr.io/aegis/controller:0.1.0 .
FROM node:20-bookworm-slim
WORKDIR /app
COPY controller/dist/image/controller.mjs /app/controller.mjs
# No shell tricks, no root: the Deployments also set runAsNonRoot, a read-only root filesystem and drop
# every capability.
USER 10001:10001
ENV NODE_ENV=production
ENTRYPOINT ["node", "/app/controller.mjs"]
