// frps and frpc (github.com/fatedier/frp), built by infra/provision.sh into the cache; the
// version is the one required here. The replace directive is frp's own (go install cannot
// build a module that has one, so this small module builds it).
module devicehub.local/infra/frp

go 1.24.0

require github.com/fatedier/frp v0.65.0

replace github.com/hashicorp/yamux => github.com/fatedier/yamux v0.0.0-20250825093530-d0154be01cd6
