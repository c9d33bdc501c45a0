// Package collab runs live co-editing: one goroutine per open document
// owns its text and version, and the ops of many documents are made
// durable together (group commit) before anyone is acknowledged. It
// speaks to storage through [docket.OpLog] and imports neither bbolt nor
// any network library; [Live] speaks the ShareDB wire protocol 1.2 on any
// [Conn] (a *websocket.Conn from gorilla/websocket satisfies it), so the
// stock sharedb client is the browser's client.
//
// # The life of an op
//
// Each connection (a conn, conn.go) has a reader goroutine, conn.readLoop,
// which reads a message from the socket and hands it to conn.handle; an
// op goes to conn.submit (conn_ops.go), which calls [Hub.Submit] (hub.go),
// and that puts it in the inbox of the document's goroutine. That
// goroutine (document.run, document.go) takes whatever waits as one batch
// and, in document.submitAll, transforms each op against the ops
// committed since its base version and applies it to a tentative state
// (document.apply). It then hands the batch to the hub's committer
// (Hub.runCommitter, commit.go), which writes what all documents sent
// meanwhile in one transaction with one fsync (group commit); only once
// that is durable does submitAll answer each submitter, and conn.submit
// queues the ack for its connection's writer. In the same pass submitAll
// delivers the committed ops to every subscriber of the document, one
// call each (Subscriber.deliverAll, subscribe.go), which queues them
// without blocking and drops a subscriber that falls too far behind.
// Last, each connection's writer goroutine (conn.writeLoop,
// conn_writer.go), started on demand by conn.kick, takes the waiting
// acks and events, puts each document's frames in version order and
// writes them to the socket in one batch; the frames are built in
// sharedb_frames.go and [Live] (sharedb.go) keeps the connections.
//
// In a cluster (Options.Bus, cluster.go) several nodes share the store.
// A commit whose version another node took first is rebased inside the
// transaction when the store is a [docket.OpRebaser] (bolt's is): while
// the document's goroutine waits, the committer hands it the missing ops
// (commitRequest.rebase), which roll the tentative state back, apply and
// deliver them as remote ops and apply the pending submissions again, so
// a commit never loses the race. With another store it fails with
// ECONFLICT, and submitAll reads the missing ops (document.catchUp),
// transforms the pending ops over them and commits again. A commit is
// published on the bus (document.publishOps)
// before its acks; on the other nodes with the document loaded the
// message becomes a request in the document's inbox, and
// document.remoteOps applies it in version order, filling a gap from the
// store; a periodic check (document.check) finds what a lost last
// message did not bring.
//
// Presence (cursors and selections, presence.go) takes the same road
// without the commit: [Hub.SubmitPresence] has the document goroutine
// move its positions through the ops committed since and relay it to the
// presence subscribers, and to the other nodes on the bus; it is never
// stored. While people edit a document
// live, its goroutine also keeps a recording of who took part and how
// much (the recorder, recorder.go); the hub's saver goroutine stores it
// through [docket.RecordingService], so a save never holds up ops.
//
// Words: a conn is one WebSocket connection; a recording is the stored
// record of a live session ([docket.Recording], which the API calls a
// session); the recorder keeps a running recording up to date.
package collab
