// victoria-logs (github.com/VictoriaMetrics/VictoriaLogs, Apache-2.0), built by infra/provision.sh
// into the cache; the version is the one required here (docs/decisions/036-log-store.md).
module devicehub.local/infra/victorialogs

go 1.26.5

require github.com/VictoriaMetrics/VictoriaLogs v1.52.1
