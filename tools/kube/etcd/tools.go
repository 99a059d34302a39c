//go:build tools

// Package tools pins etcd for scripts/kube-build.sh; nothing imports it.
// In etcd v3.6 the root package of go.etcd.io/etcd/server/v3 is etcd's main.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
)
