package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab"
	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
)

// liveShutdownTimeout bounds how long CloseLive waits for connections to
// leave the hub.
const liveShutdownTimeout = 10 * time.Second

// writeBufferPool shares write buffers between connections, so an idle
// connection holds none.
var writeBufferPool sync.Pool

// liveReadBufferSize is the read buffer of a live socket, which it holds
// for its whole life (its reader waits in it). Client messages are small
// (an op or a cursor is a few hundred bytes), and larger ones are read
// straight into the message, so 1 KiB costs no extra reads for the usual
// traffic and saves 3 KiB per connection over net/http's 4 KiB reader.
const liveReadBufferSize = 1 << 10

// batchBufferPool holds the buffers that collect a batch of frames, so a
// connection holds one only while it writes.
var batchBufferPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// maxPooledBatch is the largest batch buffer kept for reuse.
const maxPooledBatch = 64 << 10

// handleLive serves GET /api/live: live co-editing over a WebSocket that
// speaks the ShareDB protocol 1.2 (collection "docs", type text-unicode),
// so the stock sharedb client is the browser's client. The caller must be
// signed in (session cookie or bearer token; 401 before any upgrade), and
// a browser page of another origin is refused (403), whatever cookie it
// carries. Permissions are checked on every request of the socket, with
// the caller's role in the document's space: viewers may fetch, subscribe
// and share presence, editors may also submit ops.
func (s *Server) handleLive(c echo.Context) error {
	req := c.Request()
	ctx := req.Context()
	user, err := s.sameOriginUser(req, "WebSocket")
	if err != nil {
		return err
	}
	if !websocket.IsWebSocketUpgrade(req) {
		return docket.Errorf(docket.EINVALID, "This endpoint only speaks WebSocket.")
	}
	up := websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		// Not zero, which would keep net/http's 4 KiB reader for the
		// socket's life.
		ReadBufferSize:    liveReadBufferSize,
		WriteBufferSize:   4 << 10,
		WriteBufferPool:   &writeBufferPool,
		EnableCompression: false,
		// Checked above already; the upgrader checks again rather than
		// trusting every origin.
		CheckOrigin: s.sameOrigin,
	}
	if !s.liveConns.acquire(user.ID) {
		c.Response().Header().Set("Retry-After", "10")
		return docket.Errorf(docket.ERATELIMIT, "Too many live connections for this account (at most %d); close some tabs.", s.cfg.LiveConnsPerUser)
	}
	bw := &batchingResponse{ResponseWriter: c.Response()}
	conn, err := up.Upgrade(bw, req, nil)
	if err != nil {
		s.liveConns.release(user.ID)
		// The upgrader has answered with an HTTP error.
		return nil
	}
	c.Response().Status = http.StatusSwitchingProtocols
	// The socket is ours now: serve it on a fresh goroutine and let the
	// HTTP handler's goroutine (and the deep stack it grew) end. The
	// request's values (the user) stay; its cancellation does not.
	live := collab.WithCredentialCheck(context.WithoutCancel(ctx), s.credentialCheck(c))
	go func() {
		defer s.liveConns.release(user.ID)
		s.liveSrv.Serve(live, &lingerConn{Conn: conn, batch: bw.conn})
	}()
	return nil
}

// credentialCheck returns a check that the credentials of the request
// (its bearer token, or else its session cookie) are still valid.
func (s *Server) credentialCheck(c echo.Context) func(context.Context) error {
	req := c.Request()
	if authMethodFromContext(c) == authBearer {
		_, secret, _ := strings.Cut(req.Header.Get("Authorization"), " ")
		secret = strings.TrimSpace(secret)
		return func(ctx context.Context) error {
			_, err := s.svc.Auth.FindUserByToken(ctx, secret)
			return err
		}
	}
	ck, err := req.Cookie(sessionCookie)
	if err != nil {
		return func(context.Context) error { return docket.Errorf(docket.EUNAUTHORIZED, "Signed out.") }
	}
	secret := ck.Value
	return func(ctx context.Context) error {
		_, _, err := s.svc.Auth.FindSession(ctx, secret)
		return err
	}
}

// lingerConn is a WebSocket that, when it is closed after a message over
// the read limit, first reads away what the client is still sending (for a
// short while, up to a cap, into a small buffer). Closing a TCP socket
// with unread data resets the connection, and the client could lose the
// 1009 close frame that explains why.
type lingerConn struct {
	*websocket.Conn
	overLimit atomic.Bool
	batch     *batchConn
}

// BeginBatch implements [collab.Batcher].
func (c *lingerConn) BeginBatch() { c.batch.begin() }

// FlushBatch implements [collab.Batcher].
func (c *lingerConn) FlushBatch(deadline time.Time) error { return c.batch.flush(deadline) }

// batchingResponse hands the WebSocket upgrader a socket that can collect
// frames and send them in one write.
type batchingResponse struct {
	http.ResponseWriter
	conn *batchConn
}

// Hijack implements http.Hijacker.
func (b *batchingResponse) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(b.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	b.conn = &batchConn{Conn: nc}
	return b.conn, brw, nil
}

// batchConn is a socket whose writes, between begin and flush, are
// collected and sent in one write. gorilla/websocket writes each frame
// whole in one Write under its own lock, so frames from other goroutines
// join a batch between frames, never inside one.
type batchConn struct {
	net.Conn
	mu       sync.Mutex
	batching bool
	buf      *[]byte   // from batchBufferPool while a batch is collected
	deadline time.Time // the socket's write deadline as last set
}

// SetWriteDeadline sets the socket's write deadline; during a batch it
// does nothing, since the batch is sent under the deadline flush is
// given. gorilla/websocket sets the deadline before every frame, and
// re-arming the socket's timer costs about as much as the write of a
// small frame, so a later deadline is skipped while the one already set
// leaves at least half the time asked for.
func (c *batchConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.batching {
		return nil
	}
	return c.setDeadline(t)
}

// setDeadline sets the write deadline unless the one set is good
// enough. Call with c.mu held.
func (c *batchConn) setDeadline(t time.Time) error {
	if !c.deadline.IsZero() && !t.IsZero() && !t.Before(c.deadline) {
		now := time.Now()
		if 2*c.deadline.Sub(now) >= t.Sub(now) {
			return nil
		}
	}
	c.deadline = t
	return c.Conn.SetWriteDeadline(t)
}

func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.batching {
		if c.buf == nil {
			c.buf = batchBufferPool.Get().(*[]byte)
		}
		*c.buf = append(*c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func (c *batchConn) begin() {
	c.mu.Lock()
	c.batching = true
	c.mu.Unlock()
}

func (c *batchConn) flush(deadline time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batching = false
	if c.buf == nil {
		return nil
	}
	buf := c.buf
	c.buf = nil
	var err error
	if len(*buf) > 0 {
		c.setDeadline(deadline)
		_, err = c.Conn.Write(*buf)
	}
	if cap(*buf) <= maxPooledBatch {
		*buf = (*buf)[:0]
		batchBufferPool.Put(buf)
	}
	return err
}

func (c *lingerConn) ReadMessage() (int, []byte, error) {
	typ, p, err := c.Conn.ReadMessage()
	if errors.Is(err, websocket.ErrReadLimit) {
		c.overLimit.Store(true)
	}
	return typ, p, err
}

func (c *lingerConn) Close() error {
	if c.overLimit.Load() {
		nc := c.NetConn()
		nc.SetReadDeadline(time.Now().Add(2 * time.Second))
		io.CopyN(io.Discard, nc, 64<<20)
	}
	return c.Conn.Close()
}

// CloseLive closes every live co-editing connection with code 1001 (going
// away), refuses new ones, and waits (at most 10 seconds) until they have
// left the hub. Call it during shutdown after http.Server.Shutdown (which
// does not wait for hijacked connections) and before closing the hub;
// clients reconnect and resend their pending ops, which are applied once.
func (s *Server) CloseLive() {
	ctx, cancel := context.WithTimeout(context.Background(), liveShutdownTimeout)
	defer cancel()
	s.liveSrv.Shutdown(ctx)
}

// LiveConnections returns the number of open live co-editing connections.
func (s *Server) LiveConnections() int {
	return s.liveSrv.Connections()
}
