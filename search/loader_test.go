package search

import (
	"context"
	"slices"
	"sync"

	docket "github.com/docket-dev/docket"
)

// memLoader is a [TextLoader] over documents and comments in memory, as
// they were indexed, and decisions, minutes and user names as storage
// holds them.
type memLoader struct {
	mu        sync.Mutex
	docs      map[string]Doc
	comments  map[string]Comment
	decisions map[string]*docket.Document // by document id
	minutes   []*docket.MinutesRecord
	names     map[string]string
}

func newMemLoader(docs []Doc, comments []Comment) *memLoader {
	l := &memLoader{docs: map[string]Doc{}, comments: map[string]Comment{}}
	l.put(docs, comments)
	return l
}

func (l *memLoader) put(docs []Doc, comments []Comment) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, d := range docs {
		l.docs[d.ID] = d
	}
	for _, c := range comments {
		l.comments[c.ID] = c
	}
}

func (l *memLoader) LoadDocuments(ctx context.Context, ids []string, withBody bool) ([]*docket.Document, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*docket.Document
	for _, id := range ids {
		d, ok := l.docs[id]
		if !ok {
			continue
		}
		doc := &docket.Document{ID: d.ID, SpaceID: d.SpaceID, Title: d.Title, Version: d.Version}
		if withBody {
			doc.Body = d.Body
		}
		out = append(out, doc)
	}
	return out, nil
}

func (l *memLoader) LoadComments(ctx context.Context, ids []string) ([]*docket.Comment, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*docket.Comment
	for _, id := range ids {
		if c, ok := l.comments[id]; ok {
			out = append(out, &docket.Comment{ID: c.ID, DocID: c.DocID, ThreadID: c.ThreadID, AuthorID: c.AuthorID, Body: c.Body, CreatedAt: c.CreatedAt})
		}
	}
	return out, nil
}

func (l *memLoader) LoadDecisions(ctx context.Context, docIDs []string) ([]*docket.Document, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*docket.Document
	for _, id := range docIDs {
		if d := l.decisions[id]; d != nil {
			out = append(out, d)
		}
	}
	return out, nil
}

func (l *memLoader) LoadMinutes(ctx context.Context, docIDs []string) ([]*docket.MinutesRecord, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*docket.MinutesRecord
	for _, r := range l.minutes {
		if slices.Contains(docIDs, r.DocID) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (l *memLoader) LoadUserNames(ctx context.Context, ids []string) (map[string]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]string{}
	for _, id := range ids {
		if n, ok := l.names[id]; ok {
			out[id] = n
		}
	}
	return out, nil
}
