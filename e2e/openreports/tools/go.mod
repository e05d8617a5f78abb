// Pins the OpenReports API whose CRDs (config/crd/openreports.io_*.yaml) the e2e test installs
// (e2e/openreports/openreports.e2e.ts) to check Vigil's Reports against the upstream schema. Never
// built or imported: the test reads the YAML from the Go module cache (`go mod download -json`
// here), and go.sum pins its content. Do not run `go mod tidy` here: it would drop the requirement.
module vigil.dev/openreports-tools

go 1.26.3

require github.com/openreports/reports-api v0.2.1
