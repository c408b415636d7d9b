// Wrapper module used by scripts/build-toolchain to build the etcd server from
// the Go module proxy. The etcd binary's own main (go.etcd.io/etcd/v3, the
// repository root module) uses local replace directives, so this module
// carries an equivalent one-line main that calls etcdmain.Main.
// Keep the version in step with ETCD_VERSION in scripts/build-toolchain.
module concurrent-infra/toolchain/etcd

go 1.26.0

require go.etcd.io/etcd/server/v3 v3.6.16
