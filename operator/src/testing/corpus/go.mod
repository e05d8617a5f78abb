// Pins the public manifests of the real-world corpus test (operator/src/testing/corpus.ts,
// operator/src/rules/corpus.test.ts). The modules are never built or imported: the test reads
// their YAML from the Go module cache (`go mod download -json` here), and go.sum pins their
// content. Do not run `go mod tidy` here: with no imports it would drop the requirements.
module vigil.dev/corpus

go 1.26.3

require (
	github.com/argoproj/argo-cd/v3 v3.5.8
	github.com/prometheus-operator/prometheus-operator v0.85.0
)
