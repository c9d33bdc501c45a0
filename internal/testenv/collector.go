package testenv

import (
	"slices"
	"sync"
)

// Collector gathers values handed to it from any goroutine, such as what a
// watcher is called with or what concurrent writers had acknowledged. The
// zero value is ready to use.
type Collector[T any] struct {
	mu  sync.Mutex
	got []T
}

// Add gathers v.
func (c *Collector[T]) Add(v T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, v)
}

// Got returns what was gathered so far, in the order it was added.
func (c *Collector[T]) Got() []T {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}

// Len returns how many values were gathered so far.
func (c *Collector[T]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}
