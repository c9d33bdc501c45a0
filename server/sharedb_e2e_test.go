package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket/internal/testenv"
)

// sharedbE2EDir holds the stock npm client (sharedb@7.0.0,
// ot-text-unicode@4.0.0, ws@8.23.0, pinned in package-lock.json) and the
// script that drives it. CI runs `npm ci` there.
const sharedbE2EDir = "testdata/sharedb-e2e"

// The stock sharedb client against the server: two clients type
// concurrently and converge, presence is relayed and moved, and an op in
// flight when the socket dies is resent after the reconnect and applied
// once. The final text the clients saw is the text the REST API serves.
func TestSharedbStockClientE2E(t *testing.T) {
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(sharedbE2EDir, "node_modules", "sharedb", "package.json"))
	}
	if err != nil {
		testenv.Missing(t, "node or %s/node_modules missing (run npm ci there): %v", sharedbE2EDir, err)
	}
	e, ada, doc := liveEnv(t, "")
	token := ada.useToken()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "e2e.js", "--url", e.liveURL(), "--token", token, "--doc", doc)
	cmd.Dir = sharedbE2EDir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var out struct {
		OK      bool   `json:"ok"`
		Error   string `json:"error"`
		Text    string `json:"text"`
		Version int64  `json:"version"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &out); err != nil || runErr != nil || !out.OK {
		t.Fatalf("node e2e.js: %v\nstdout: %s\nstderr: %s", runErr, stdout.String(), stderr.String())
	}
	text, version := ada.docText(doc)
	if text != out.Text || version != out.Version {
		t.Fatalf("clients saw v%d %q; REST has v%d %q", out.Version, out.Text, version, text)
	}
	if n := strings.Count(text, "MARK-"); n != 1 {
		t.Fatalf("the resent op is in the text %d times", n)
	}
	t.Logf("converged at v%d, %d characters", version, len(text))
}
