// Package frontend holds Docket's built browser bundle: dist/, committed,
// built from src/ with esbuild by `npm run build`. Asset file names carry
// a hash of their content; dist/manifest.json maps each entry's name
// (app.js, doc.js, style.css) to its file. The server serves the files of
// [FS] and finds the current names in the manifest.
package frontend

import (
	"embed"
	"io/fs"
)

//go:embed dist
var dist embed.FS

// FS returns the bundle: manifest.json and the files it names, with the
// chunks they import, at its root.
func FS() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path: fs.Sub cannot fail
	}
	return sub
}
