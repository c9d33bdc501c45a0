package collab

// LiveWriters returns how many connection writer goroutines of l run.
func LiveWriters(l *Live) int64 { return l.writers.Load() }

// SetWriterStopping sets a function that runs when a writer has decided to
// stop, before it marks itself stopped, and returns a function that
// removes it.
func SetWriterStopping(f func()) (reset func()) {
	writerStopping.Store(&f)
	return func() { writerStopping.Store(nil) }
}

// LiveTicking reports whether the ticker of l runs; it stops once l has
// no connections left.
func LiveTicking(l *Live) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ticking
}
