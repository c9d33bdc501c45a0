package export

import (
	"context"
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
