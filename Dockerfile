# Slipway: multi-stage build on Node 22 LTS; runs as a non-root user.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production PORT=8125 DATA_DIR=/var/lib/slipway
WORKDIR /app
RUN groupadd --system --gid 10001 slipway && useradd --system --uid 10001 --gid slipway --home /var/lib/slipway slipway \
 && mkdir -p /var/lib/slipway && chown slipway:slipway /var/lib/slipway
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY migrations ./migrations
COPY examples ./examples
USER slipway
EXPOSE 8125
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+(process.env.BASE_PATH||'')+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "dist/server.js"]
