// Package assets holds the web console's built single-page application
// (web/, built by `make build` into dist/), embedded in the binary.
package assets

import "embed"

// Dist is the built application: index.html and its hashed files under
// dist/. It holds only dist/.gitkeep when the assets were not built.
//
//go:embed all:dist
var Dist embed.FS
