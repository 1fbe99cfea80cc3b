# The one DeviceHub image: hub nodes, links and gateways are its commands
# (`docker run devicehub node|link mqtt|link kafka|gateway`). No build step: tsx runs the
# TypeScript as it is.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY actors ./actors
COPY bus ./bus
COPY cli ./cli
COPY edge ./edge
COPY gateway ./gateway
COPY infra ./infra
COPY objects ./objects
COPY bench ./bench
USER node
ENTRYPOINT ["node", "--import", "tsx", "cli/devicehub.ts"]
CMD ["help"]
