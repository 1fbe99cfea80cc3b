#!/bin/sh
# Provisions the real servers DeviceHub's tests, demo and benchmarks start on loopback.
# Idempotent: each step checks first and does nothing when the tool is present.
# Later parts of the system add their servers here (PostgreSQL, Kafka, frp, sshd).
set -eu

need_apt=""
command -v redis-server >/dev/null 2>&1 || need_apt="$need_apt redis-server"
command -v redis-cli >/dev/null 2>&1 || need_apt="$need_apt redis-tools"
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need_apt="$need_apt mosquitto"

if [ -n "$need_apt" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "devicehub: installing$need_apt with apt-get…" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $need_apt >/dev/null
  else
    echo "devicehub: missing$need_apt. Install it (Debian/Ubuntu: sudo apt-get install$need_apt; macOS: brew install redis mosquitto)." >&2
    exit 1
  fi
fi
