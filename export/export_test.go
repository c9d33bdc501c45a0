package export

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	docket "github.com/docket-dev/docket"
)

func TestFrontMatter(t *testing.T) {
	at := time.Date(2026, 12, 7, 1, 2, 3, 0, time.UTC)
	e := &Entry{Title: `The "quoted" cache: part 1`, Kind: docket.KindRFC, Status: docket.StatusAccepted,
		Tags: []string{"cache", "perf"}, Owner: "ada@example.com", CreatedAt: at, UpdatedAt: at.Add(time.Hour)}
	got := frontMatter(e, "Line one.\nLine two.")
	want := "---\n" +
		"title: \"The \\\"quoted\\\" cache: part 1\"\nkind: \"rfc\"\nstatus: \"accepted\"\ntags: [\"cache\", \"perf\"]\n" +
		"owner: \"ada@example.com\"\ncreated: 2026-12-07T01:02:03Z\nupdated: 2026-12-07T02:02:03Z\n" +
		"decision: \"Line one.\\nLine two.\"\n---\n"
	if got != want {
		t.Errorf("frontMatter =\n%s\nwant\n%s", got, want)
	}
}

func TestFileName(t *testing.T) {
	for title, want := range map[string]string{
		"Shared cache: v2!": "shared-cache-v2", "Über": "ber", "???": "untitled",
		strings.Repeat("ab ", 40): strings.TrimRight(strings.Repeat("ab-", 20), "-"),
	} {
		if got := FileName(title); got != want {
			t.Errorf("FileName(%q) = %q; want %q", title, got, want)
		}
	}
}

// refuser fails the test if Read restores anything.
type refuser struct{ t *testing.T }

func (r refuser) RestoreUser(context.Context, *docket.User) (*docket.User, error) {
	r.t.Fatal("restored a user")
	return nil, nil
}

func (r refuser) RestoreSpace(context.Context, *docket.SpaceRecord, map[string]string) (*docket.Space, error) {
	r.t.Fatal("restored a space")
	return nil, nil
}

func (r refuser) RestoreDocument(context.Context, *docket.DocumentRecord, map[string]string) (*docket.Document, error) {
	r.t.Fatal("restored a document")
	return nil, nil
}

func TestReadRefuses(t *testing.T) {
	tests := []struct{ name, manifest, want string }{
		{"a newer format version", `{"format":"docket-export","formatVersion":2,"users":[{"id":"u","email":"a@example.com"}]}`, "format version 2"},
		{"another format", `{"format":"something","formatVersion":1}`, "not that of a Docket export"},
		{"no manifest", "", "manifest.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			if tt.manifest != "" {
				fsys["manifest.json"] = &fstest.MapFile{Data: []byte(tt.manifest)}
			}
			if IsExport(fsys) && tt.manifest == "" {
				t.Error("IsExport of an empty folder")
			}
			_, err := Read(context.Background(), refuser{t}, fsys, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Read = %v; want an error naming %q", err, tt.want)
			}
		})
	}
}

func TestExtractTarGz(t *testing.T) {
	tarOf := func(names ...string) *bytes.Buffer {
		var buf bytes.Buffer
		sink := NewTarSink(&buf, time.Now())
		for _, n := range names {
			if err := sink.Put(n, []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		if err := sink.Close(); err != nil {
			t.Fatal(err)
		}
		return &buf
	}
	dir := t.TempDir()
	if err := ExtractTarGz(tarOf("manifest.json", "eng/a.md"), dir); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "eng", "a.md")); err != nil || string(data) != "x" {
		t.Errorf("eng/a.md = %q, %v", data, err)
	}
	for _, bad := range []string{"../evil.md", "/etc/evil", "eng/../../evil"} {
		if err := ExtractTarGz(tarOf(bad), t.TempDir()); err == nil || !strings.Contains(err.Error(), "outside the export") {
			t.Errorf("extracting %q: %v; want it refused", bad, err)
		}
	}
	if err := ExtractTarGz(strings.NewReader("plain text"), t.TempDir()); err == nil {
		t.Error("extracting plain text: no error")
	}
}
