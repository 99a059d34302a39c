// Pins the Cluster API, Metal3 and BareMetal Operator releases whose CustomResourceDefinitions
// scripts/capi-crds.sh copies out of the Go module cache (README.md). Nothing is built from this
// module: it has no package, so `go mod tidy` would drop the requirements — do not run it; bump a
// version by editing its line and running `go mod download <module>@<version>` here.
module slipway.local/tools/kube/capi

go 1.26.0

require (
	github.com/metal3-io/baremetal-operator v0.6.0
	github.com/metal3-io/cluster-api-provider-metal3 v1.7.0
	sigs.k8s.io/cluster-api v1.7.0
)
