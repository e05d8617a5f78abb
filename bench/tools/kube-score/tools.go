//go:build tools

// Package tools records the kube-score command `make bench` builds.
package tools

import _ "github.com/zegl/kube-score/cmd/kube-score"
