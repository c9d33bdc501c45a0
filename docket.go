// Package docket is the domain of Docket, a self-hosted server where a team
// replaces meetings with documents: markdown documents kept in spaces, an
// append-only history of every edit, and the people allowed to read and
// change them.
//
// The package holds the domain types, the service interfaces that adapters
// implement ([UserService], [SpaceService], [DocumentService]), the single
// error type [Error] and the context helpers that carry the caller. It
// imports the standard library only; storage lives in bolt/, rendering in
// markdown/, HTTP in server/, and cmd/docket wires them together.
package docket

// Limits that every adapter enforces. They are part of the product contract:
// a request over a limit gets a clear error and changes nothing.
const (
	// MaxDocumentBytes is the largest document body, in bytes of UTF-8.
	MaxDocumentBytes = 1 << 20
	// MaxTitleLength is the longest title, in characters.
	MaxTitleLength = 300
	// MaxTags is the most tags a document may carry.
	MaxTags = 32
	// MaxTagLength is the longest tag, in characters.
	MaxTagLength = 64
	// MaxNameLength is the longest user or space name, in characters.
	MaxNameLength = 100
	// MinPasswordLength is the shortest accepted password.
	MinPasswordLength = 8
	// MaxPasswordLength is the longest accepted password (bcrypt reads 72 bytes).
	MaxPasswordLength = 72
)
