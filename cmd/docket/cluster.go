package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/collab"
	"github.com/docket-dev/docket/nats"
	"github.com/docket-dev/docket/postgres"
	"github.com/prometheus/client_golang/prometheus"
)

// This file is cluster mode: `docket serve --store postgres://...
// --bus nats://...` runs one node of a cluster. Every node keeps the data
// in the shared PostgreSQL database (package postgres, a kv engine under
// the same services as the bbolt file) and hears of the other nodes'
// commits over NATS (package nats); the data directory keeps only what is
// the node's own: its search index and its admin socket.

// clusterFlags are the URLs of the shared store and bus, and the prefix
// that keeps this cluster's subjects apart from others on the same NATS.
type clusterFlags struct {
	Store, Bus string
	BusPrefix  string
}

// on reports whether the flags make this process a node of a cluster.
func (c clusterFlags) on() bool { return c.Store != "" }

// check reports a half-configured cluster.
func (c clusterFlags) check() error {
	switch {
	case c.Store == "" && c.Bus == "" && c.BusPrefix != "":
		return fmt.Errorf("--bus-prefix needs --store and --bus: it names this cluster's subjects on NATS")
	case c.Store == "" && c.Bus == "":
		return nil
	case c.Bus == "":
		return fmt.Errorf("--store needs --bus: the nodes of a cluster hear of each other's commits over NATS (nats://HOST:4222)")
	case c.Store == "":
		return fmt.Errorf("--bus needs --store: a cluster keeps its data in PostgreSQL (postgres://USER@HOST/DB)")
	}
	if err := checkStoreURL(c.Store); err != nil {
		return fmt.Errorf("--store %w", err)
	}
	if c.BusPrefix != "" {
		if err := docket.CheckSubject(c.BusPrefix); err != nil {
			return fmt.Errorf("--bus-prefix: %s", docket.ErrorMessage(err))
		}
	}
	return nil
}

// checkStoreURL refuses a store URL that is not PostgreSQL's.
func checkStoreURL(u string) error {
	if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		return fmt.Errorf("must be a postgres:// URL, not %q", redactURL(u))
	}
	return nil
}

// openPostgres opens a cluster's store at the PostgreSQL URL u.
func openPostgres(ctx context.Context, u string, opts ...postgres.Option) (*postgres.Store, error) {
	if err := checkStoreURL(u); err != nil {
		return nil, fmt.Errorf("store %w", err)
	}
	store, err := postgres.Open(ctx, u, opts...)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", redactURL(u), err)
	}
	return store, nil
}

// redactURL returns u without its password, for logs and errors.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	return p.Redacted()
}

// node is this process as a node of a cluster.
type node struct {
	store *postgres.Store
	bus   *nats.Bus
}

// openNode connects to the store and the bus and opens db on them; db then
// publishes its commits and hears the other nodes' until ctx is done.
func openNode(ctx context.Context, c clusterFlags, db *bolt.DB, log *slog.Logger) (*node, error) {
	store, err := openPostgres(ctx, c.Store, postgres.WithLogger(log))
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	bus, err := nats.Open(ctx, c.Bus, nats.Options{Name: "docket " + host, Prefix: c.BusPrefix, Logger: log})
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("bus %s: %w", redactURL(c.Bus), err)
	}
	if err := db.OpenStore(store); err != nil {
		bus.Close()
		store.Close()
		return nil, err
	}
	if err := db.SetBus(ctx, bus, log); err != nil {
		bus.Close()
		db.Close()
		return nil, err
	}
	log.Info("cluster node", slog.String("store", redactURL(c.Store)), slog.String("bus", redactURL(c.Bus)), slog.String("bus_prefix", c.BusPrefix))
	return &node{store: store, bus: bus}, nil
}

// openClusterStore opens a cluster's store for a command run beside the
// nodes (docket user).
func openClusterStore(ctx context.Context, rawURL string) (*bolt.DB, error) {
	store, err := openPostgres(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	db := bolt.NewDB("")
	if err := db.OpenStore(store); err != nil {
		store.Close()
		return nil, err
	}
	return db, nil
}

// healthChecks are what /healthz reports of the node's connections, nil
// on one node.
func (n *node) healthChecks() map[string]func(context.Context) error {
	if n == nil {
		return nil
	}
	return map[string]func(context.Context) error{"store": n.store.Ping, "bus": n.bus.Ping}
}

// leadEvery is how often a node that does not lead a periodic job tries
// to, and how often the leader checks it still does.
const leadEvery = 5 * time.Second

// lead runs a periodic job: on one node, fn itself; in a cluster, fn on
// whichever node leads name at the time (postgres.Store.Lead).
func (n *node) lead(name string, fn func(ctx context.Context)) func(ctx context.Context) {
	if n == nil {
		return fn
	}
	return func(ctx context.Context) { n.store.Lead(ctx, name, leadEvery, fn) }
}

// docketBus returns the node's bus, nil on one node.
func (n *node) docketBus() docket.Bus {
	if n == nil {
		return nil
	}
	return n.bus
}

// close closes the bus; the store closes with the DB.
func (n *node) close() {
	if n != nil {
		n.bus.Close()
	}
}

// registerMetrics exports the node's bus and the hub's cluster counters.
func (n *node) registerMetrics(reg prometheus.Registerer, hub *collab.Hub) {
	if n == nil {
		return
	}
	counter := func(name, help string, v func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, v)
	}
	reg.MustRegister(
		counter("docket_bus_published_total", "Messages this node published on the bus.", func() float64 { return float64(n.bus.Stats().Published) }),
		counter("docket_bus_received_total", "Bus messages from other nodes handled here.", func() float64 { return float64(n.bus.Stats().Received) }),
		counter("docket_bus_dropped_total", "Bus messages lost because a subscriber here fell behind.", func() float64 { return float64(n.bus.Stats().Dropped) }),
		counter("docket_bus_reconnects_total", "Times the bus connection was made again.", func() float64 { return float64(n.bus.Stats().Reconnects) }),
		counter("docket_live_remote_ops_total", "Ops of other nodes applied to the documents open here.", func() float64 { return float64(hub.Stats().RemoteOps) }),
		counter("docket_live_gap_fills_total", "Reads of ops missing here from the store (a lost or overtaken bus message, a conflict).", func() float64 { return float64(hub.Stats().GapFills) }),
		counter("docket_live_conflicts_total", "Commits another node's commit beat; caught up and committed again.", func() float64 { return float64(hub.Stats().Conflicts) }),
		counter("docket_live_rebases_total", "Commits another node's commit beat, rebased inside the transaction.", func() float64 { return float64(hub.Stats().Rebases) }),
		counter("docket_live_conflict_failures_total", "Submissions failed after too many conflicts in a row.", func() float64 { return float64(hub.Stats().ConflictFailures) }),
	)
}
