// Package collab runs live co-editing: one hub goroutine per open document
// owns its text and version, transforms incoming ops against what was
// committed since their base version, and hands them to a committer that
// writes ops of many documents in one durable transaction (group commit)
// before anyone is acknowledged.
//
// The package speaks to storage through [docket.OpLog] and imports
// neither bbolt nor any network library. The WebSocket protocol adapter,
// [Live], sits on top of [Hub]: it speaks the ShareDB wire protocol 1.2 on
// any [Conn] (a *websocket.Conn from gorilla/websocket satisfies it), so
// the stock sharedb client is the browser's client.
package collab
