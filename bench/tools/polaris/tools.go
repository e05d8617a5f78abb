//go:build tools

// Package tools records the Polaris command `make bench` builds.
package tools

import _ "github.com/fairwindsops/polaris"
