//go:build tools

// Package tools pins the main packages built by scripts/build-toolchain so that
// `go mod tidy` records their dependencies.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
