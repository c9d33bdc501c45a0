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

// found returns, under l's lock, what get finds of the ids.
func found[T any](l *memLoader, ids []string, get func(id string) (T, bool)) ([]T, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []T
	for _, id := range ids {
		if v, ok := get(id); ok {
			out = append(out, v)
		}
	}
	return out, nil
}

func (l *memLoader) LoadDocuments(ctx context.Context, ids []string, withBody bool) ([]*docket.Document, error) {
	return found(l, ids, func(id string) (*docket.Document, bool) {
		d, ok := l.docs[id]
		doc := &docket.Document{ID: d.ID, SpaceID: d.SpaceID, Title: d.Title, Version: d.Version}
		if withBody {
			doc.Body = d.Body
		}
		return doc, ok
	})
}

func (l *memLoader) LoadComments(ctx context.Context, ids []string) ([]*docket.Comment, error) {
	return found(l, ids, func(id string) (*docket.Comment, bool) {
		c, ok := l.comments[id]
		return &docket.Comment{ID: c.ID, DocID: c.DocID, ThreadID: c.ThreadID, AuthorID: c.AuthorID, Body: c.Body, CreatedAt: c.CreatedAt}, ok
	})
}

func (l *memLoader) LoadDecisions(ctx context.Context, docIDs []string) ([]*docket.Document, error) {
	return found(l, docIDs, func(id string) (*docket.Document, bool) {
		d := l.decisions[id]
		return d, d != nil
	})
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
