//go:build tools

// Package tools records the trivy command `make bench` builds.
package tools

import _ "github.com/aquasecurity/trivy/cmd/trivy"
