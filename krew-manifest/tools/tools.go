//go:build tools

// Package tools pins krew and its manifest validator for `npm run verify:krew`
// (krew-manifest/verify.mjs builds them from the Go module proxy with this go.mod/go.sum).
// `go install sigs.k8s.io/krew/cmd/krew@v0.4.4` does not work through a proxy that refuses the
// module's version list (it looks up deprecations there); building inside this module does.
package tools

import (
	_ "sigs.k8s.io/krew/cmd/krew"
	_ "sigs.k8s.io/krew/cmd/validate-krew-manifest"
)
