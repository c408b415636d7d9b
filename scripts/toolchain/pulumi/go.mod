// Wrapper module used by scripts/build-toolchain to build the Pulumi CLI from
// the Go module proxy. pkg/v3's own go.mod has replace directives, so
// `go install pkg@version` is refused; the non-local ones are copied here.
module concurrent-infra/toolchain/pulumi

go 1.26

require github.com/pulumi/pulumi/pkg/v3 v3.274.1

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
