//go:build tools

// Package tools pins kwok and kwokctl for scripts/kube-build.sh; nothing imports it.
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
	_ "sigs.k8s.io/kwok/cmd/kwokctl"
)
