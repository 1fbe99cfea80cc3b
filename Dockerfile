# The one DeviceHub image: hub nodes, links and gateways are its commands
# (`docker run devicehub node|link mqtt|link kafka|gateway|clips`). No build step and no loader:
# Node 24 strips TypeScript's types itself, and the suite runs on the same major
# (infra/node.sh, decision 062): a hub node spends ~18 % less CPU a message there than on
# Node 20 through tsx, and its processes start in half the CPU.
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# npm's postinstall applies patches/ to the installed packages (patch-package; decision 067).
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund
# The clip workers check clips with ffprobe and cut posters with ffmpeg; the Ezviz stand-in
# burns its clock in with DejaVu Sans Mono. The gateway checks operators' alert rules with
# promtool (Debian's prometheus package; the gateway never runs Prometheus itself).
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends ffmpeg fonts-dejavu-core prometheus \
  && rm -rf /var/lib/apt/lists/*
COPY actors ./actors
COPY bus ./bus
COPY cli ./cli
COPY edge ./edge
COPY gateway ./gateway
COPY infra ./infra
COPY objects ./objects
COPY logs ./logs
COPY clips ./clips
COPY vision ./vision
COPY bench ./bench
USER node
ENTRYPOINT ["node", "cli/devicehub.ts"]
CMD ["help"]
