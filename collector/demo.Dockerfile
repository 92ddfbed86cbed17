# Builds aitrail from this repository for the `demo` service in docker-compose.yml.
# Build context is the repository root; collector/demo.Dockerfile.dockerignore keeps the
# host's node_modules, dist and local data out of the image.
FROM node:22.23.2-bookworm-slim

WORKDIR /app

# Dependencies first, so source edits reuse the cached layer.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

COPY . .
RUN npm run build \
  && mkdir -p /app/.aitrail \
  && chown node:node /app/.aitrail

# Runs as the image's unprivileged user, not root; ./.aitrail (AITRAIL_DATA_DIR's default)
# is the one directory it may write to.
USER node

CMD ["node", "dist/esm/cli/main.js", "demo"]
