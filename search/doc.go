// Package search is the full-text index of Docket: documents, comments,
// recorded decisions and frozen minutes in a bleve v2 (scorch) index kept
// in the data directory.
//
// The index is a cache. bbolt is the source of truth and everything here
// can be rebuilt from it: [Open] never fails because of a bad index. When
// the stored index cannot be opened, is corrupt, or was built with another
// [MappingVersion], it is moved aside and a new empty index is created;
// [Index.NeedsRebuild] then tells the caller to feed every item again
// and call [Index.MarkRebuilt].
//
// User text never reaches bleve's query-string syntax. [ParseQuery]
// understands a small syntax of its own (words, "phrases", -exclusions, OR,
// field filters, trailing * prefixes, ~ fuzziness) and [Index.Search] turns
// the parsed [Query] into bleve query objects. Permission filtering happens
// inside the bleve query: a [Query] carries the spaces the caller may read,
// so hits, totals, facets and fragments never mention anything else.
package search
