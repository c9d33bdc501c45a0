package docket

// Bus carries messages between the nodes of a cluster (package nats
// implements it). It is a hint, not a record: delivery is at most once,
// in order per subject from one publisher, and a node never receives what
// it published itself. Whatever must not be lost is committed to the
// store first; a bus message only says where to look, so a lost one
// delays a node but never misleads it.
type Bus interface {
	// Publish sends data to the subscribers of subject on other nodes.
	// It does not wait for them.
	Publish(subject string, data []byte) error
	// Subscribe calls fn with every message on subject from other nodes,
	// one at a time, until unsubscribe is called. fn must not block for
	// long (it runs on the bus's delivery goroutine for subject).
	Subscribe(subject string, fn func(data []byte)) (unsubscribe func(), err error)
}
