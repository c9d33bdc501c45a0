package docket_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The layers of the module, by package path relative to the module root.
// Imports point inward: cmd/docket wires adapters together, adapters
// import the domain, and the domain imports only the standard library.
//
//   - The domain is the root package (types, rules, service interfaces)
//     and collab/ot (the pure text type: ops, transforms, ranges), and kv
//     (the storage engine contract). They import only the standard
//     library and none imports another;
//     every package may import them. bolt imports collab/ot to rebuild
//     texts from its op log and move thread anchors, which is fine:
//     collab/ot is not the live hub.
//   - Adapters are named after what they wrap. An adapter imports the
//     domain, the standard library and third-party modules, never another
//     adapter, cmd/ or internal/ (except the few imports in
//     allowedAdapterImports). What one adapter needs from another is
//     injected by cmd/docket as a function or an interface, as
//     bolt.NewActionService(db, markdown.ActionItems) does.
//   - cmd/ and internal/ (test support and tools) may import everything.
//
// The tests of a package that are part of it (package p) follow its rules,
// except that an adapter's may use internal/ test support. External tests
// (package p_test) are integration tests: like cmd/docket they wire real
// adapters together, and nothing can import them, so only the domain's are
// checked (standard library and domain only).
const (
	layerDomain  = "domain"
	layerAdapter = "adapter"
	layerWiring  = "wiring"
)

// packageLayers assigns every package of the module outside cmd/ and
// internal/ to a layer; a new package must be added here.
var packageLayers = map[string]string{
	"":          layerDomain,
	"collab/ot": layerDomain,
	// kv is the contract between the store and its engine (bbolt, or
	// PostgreSQL in cluster mode): interfaces only, like io.
	"kv": layerDomain,

	"bolt":     layerAdapter, // bbolt: the services' storage
	"search":   layerAdapter, // bleve
	"markdown": layerAdapter, // goldmark and bluemonday
	"webhook":  layerAdapter, // outgoing HTTP
	"smtp":     layerAdapter, // outgoing mail
	"collab":   layerAdapter, // the live hub
	"server":   layerAdapter, // echo
	"frontend": layerAdapter, // the embedded web app
	"export":   layerAdapter, // the export format: files, tar.gz
	"oidc":     layerAdapter, // OpenID Connect sign-in: go-oidc and x/oauth2
	"nats":     layerAdapter, // the cluster's bus: nats.go, core publish/subscribe only
	"postgres": layerAdapter, // the cluster's store: the kv engine on PostgreSQL, through pgx
}

// allowedAdapterImports are the imports between adapters that the layering
// permits, each with its reason. An entry that no import uses any more is
// an error, so the list stays as short as the code.
var allowedAdapterImports = map[[2]string]string{
	{"server", "collab"}: "the live hub is a concrete *collab.Hub that server runs its " +
		"REST edits through, and server hands each live WebSocket to collab.Live; collab " +
		"imports neither echo nor server",
	{"server", "export"}: "export is the adapter-neutral writer of the export format: it " +
		"works over docket.Exporter and docket.Restorer only and imports no other adapter, so " +
		"the space settings download and docket export write the same files",
}

// standIns are the packages that adapters' tests use in place of another
// adapter, and the contract suites they share: membus is the bus of
// package nats in memory, for the cluster tests of bolt, server and
// collab; bustest holds nats and membus to one contract; kv/kvtest holds
// the kv engines (bolt's bbolt, postgres) to one contract, beside the
// contract it checks. They import only the domain, other standIns and
// modules outside this one, so an adapter's tests never reach another
// adapter through them. Like internal/, they may be imported by tests only.
var standIns = map[string]bool{
	"internal/testenv": true,
	"internal/membus":  true,
	"internal/bustest": true,
	"kv/kvtest":        true,
}

// listedPackage is what go list says about a package.
type listedPackage struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// TestImportsPointInward checks the layering above with go list.
func TestImportsPointInward(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	cmd := exec.Command(goCmd, "list", "-json=ImportPath,Imports,TestImports,XTestImports", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	modPath, err := exec.Command(goCmd, "list", "-m").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	module := strings.TrimSpace(string(modPath))

	// rel returns the path of an import inside the module, or false.
	rel := func(path string) (string, bool) {
		if path == module {
			return "", true
		}
		r, ok := strings.CutPrefix(path, module+"/")
		return r, ok
	}
	layerOf := func(r string) string {
		if r == "cmd" || r == "internal" || strings.HasPrefix(r, "cmd/") || strings.HasPrefix(r, "internal/") || standIns[r] {
			return layerWiring
		}
		return packageLayers[r]
	}
	name := func(r string) string {
		if r == "" {
			return "the root package"
		}
		return r
	}
	used := map[[2]string]bool{}

	// check reports every import of pkg (by what: its code, its tests or
	// its external tests) that its layer forbids.
	check := func(pkg, layer, what string, imports []string) {
		who := name(pkg) + " imports"
		if what != "imports" {
			who = name(pkg) + "'s " + what + " import"
		}
		for _, imp := range imports {
			if standard(imp) {
				continue
			}
			r, inModule := rel(imp)
			switch layer {
			case layerDomain:
				if what == "external tests" && inModule && layerOf(r) == layerDomain {
					continue
				}
				t.Errorf("%s %s: the domain imports only the standard library", who, imp)
			case layerAdapter:
				if !inModule || r == pkg {
					continue
				}
				switch to := layerOf(r); {
				case to == layerDomain:
				case to == layerWiring && what == "tests" && (strings.HasPrefix(r, "internal/") || standIns[r]):
				case to == layerAdapter && allowedAdapterImports[[2]string{pkg, r}] != "" && what == "imports":
					used[[2]string{pkg, r}] = true
				case to == layerAdapter:
					t.Errorf("%s %s: an adapter never imports another adapter; inject what it needs from cmd/docket, or add a justified entry to allowedAdapterImports", who, imp)
				default:
					t.Errorf("%s %s: an adapter imports the domain, never cmd/ or internal/", who, imp)
				}
			}
		}
	}

	dec := json.NewDecoder(bytes.NewReader(out))
	seen := 0
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		r, ok := rel(p.ImportPath)
		if !ok {
			t.Fatalf("go list ./... listed %s, outside module %s", p.ImportPath, module)
		}
		seen++
		if standIns[r] {
			for _, imp := range p.Imports {
				if ir, in := rel(imp); in && layerOf(ir) != layerDomain && !standIns[ir] {
					t.Errorf("%s imports %s: a stand-in for tests imports only the domain and other stand-ins (standIns)", r, imp)
				}
			}
		}
		layer := layerOf(r)
		switch layer {
		case "":
			t.Errorf("package %s has no layer: add it to packageLayers in deps_test.go", name(r))
		case layerDomain:
			check(r, layer, "imports", p.Imports)
			check(r, layer, "tests", p.TestImports)
			check(r, layer, "external tests", p.XTestImports)
		case layerAdapter:
			check(r, layer, "imports", p.Imports)
			check(r, layer, "tests", p.TestImports)
		}
	}
	if seen < len(packageLayers) {
		t.Errorf("go list ./... listed %d packages; want at least the %d of packageLayers", seen, len(packageLayers))
	}
	var stale []string
	for pair := range allowedAdapterImports {
		if !used[pair] {
			stale = append(stale, pair[0]+" -> "+pair[1])
		}
	}
	slices.Sort(stale)
	for _, s := range stale {
		t.Errorf("allowedAdapterImports allows %s, which no package imports any more: remove the entry", s)
	}
}

// standard reports whether an import path is in the standard library: its
// first element has no dot, unlike every module path.
func standard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}
