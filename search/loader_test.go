package search

import (
	"context"
	"sync"

	docket "github.com/docket-dev/docket"
)

// memLoader is a [TextLoader] over documents and comments in memory, as
// they were indexed.
type memLoader struct {
	mu       sync.Mutex
	docs     map[string]Doc
	comments map[string]Comment
	items    // decisions and minutes: items_test.go
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
