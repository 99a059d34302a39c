//go:build tools

// Package tools pins helm for scripts/kube-build.sh; nothing imports it. Helm has a module of its
// own so that its k8s.io requirements (v0.36) leave the kubernetes module's (v0.34) alone.
package tools

import (
	_ "helm.sh/helm/v4/cmd/helm"
)
