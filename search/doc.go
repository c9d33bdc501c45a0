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
//
// # Files
//
// Writing the index:
//   - index.go: [Index], [Open], Close and the state of the index (rebuild
//     needed, indexed versions, event watermark); the mapping, its fields
//     and how values become keyword and day terms.
//   - items.go: what is indexed ([Doc], [Comment], [Decision], [Minutes]),
//     the bleve documents built from it, and the writes and deletes.
//   - analysis.go: the text analyzer (tokenizer, folding) and the words it
//     finds in a text.
//   - text.go: [PlainText], markdown as the words a reader sees.
//   - indexer.go: [Indexer], which indexes storage's changes as they come.
//   - rebuild.go: [Scanner], [Indexer.Rebuild] and [Indexer.CatchUp]: the
//     index rebuilt from storage, or caught up after a restart.
//
// Searching it:
//   - query.go: [Query] and its syntax ([ParseQuery]).
//   - querybuild.go: a [Query] turned into one bleve query.
//   - readable.go: readableQuery, the permission filter at the root of
//     that query, which also counts the facets of its matches.
//   - search.go: [Index.Search], running a query: sort, page, totals,
//     facets.
//   - phrasequery.go: phraseQuery, a phrase of the body matched by the
//     positions of its words in the items that hold its pairs of words.
//   - phrase.go: prefix phrases ("open-cod*"), positive and excluded,
//     checked against the text of their candidates.
//   - load.go: [TextLoader]; the items of hits, read once per search; the
//     hits of a page filled in with titles and fragments.
//   - highlight.go: fragments and their marks, made from the stored text.
//   - suggest.go: [Index.Suggest], title completions.
//   - service.go: [Service], the docket.SearchService over an [Index].
package search
