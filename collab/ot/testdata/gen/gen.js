#!/usr/bin/env node
// gen.js writes ../vectors.json: test vectors for the Go package collab/ot,
// computed by the npm package ot-text-unicode pinned in package.json (4.0.0).
//
// To regenerate (needs node >= 16 and npm; Go tests only read the JSON):
//
//	cd collab/ot/testdata/gen
//	npm ci          # installs exactly what package-lock.json pins
//	node gen.js     # rewrites ../vectors.json
//
// The output is deterministic: the PRNG is seeded (SEED below), so running it
// twice gives the same file. Change SEED or the counts to get new cases.
//
// For a larger one-off differential run that is not committed:
//
//	OT_SEED=42 OT_SCALE=20 OT_OUT=/tmp/big.json node gen.js
//	OT_VECTORS=/tmp/big.json go test -run 'TestVectors' ./collab/ot/
//
// Every case has a "kind" and the npm result, either "result" or "error" (the
// message the npm type threw). Ops are written exactly as the npm type sees
// them, including malformed ones (zero skips, empty inserts, ...) for the
// checkOp and normalize cases. No string contains a lone surrogate, so Go's
// encoding/json reads every string unchanged.
//
// "mismatch": true marks an apply case whose {d:"text"} does not match the
// document. The npm type applies it anyway; the Go port rejects it on purpose
// (see Apply in ../../apply.go), so the Go test expects an error there.
'use strict'

const fs = require('fs')
const path = require('path')
const {type} = require('ot-text-unicode')
const pkg = require('ot-text-unicode/package.json')

const SEED = process.env.OT_SEED ? Number(process.env.OT_SEED) : 0x0d0c4e7
const SCALE = process.env.OT_SCALE ? Number(process.env.OT_SCALE) : 1
const OUT = process.env.OT_OUT || path.join(__dirname, '..', 'vectors.json')
const N = n => Math.round(n * SCALE)

// mulberry32: a small seeded PRNG, good enough for test data.
let state = SEED >>> 0
const rand = () => {
  state = (state + 0x6d2b79f5) >>> 0
  let t = state
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const randInt = n => Math.floor(rand() * n) // 0 <= x < n
const chance = p => rand() < p
const pick = arr => arr[randInt(arr.length)]

// Alphabets, as arrays of code points (strings of one code point each).
const cps = s => Array.from(s)
const ALPHABETS = {
  ascii: cps('abcdefghijklmnopqrstuvwxyz ABC.,!?\n\t"\\'),
  emoji: cps('😅🤖👻🤟💃😭🎉🔥\u{1F3FC}\u200d\u2640\ufe0f'), // includes skin tone, ZWJ, VS16
  cjk: cps('中文字漢字日本語한국어ひらがなカタカナ'),
  combining: cps('ae\u0301\u0308\u0323\u0327o\u0302\u20dd'),
  misc: cps('é ñ ß € \u00a0 \u2028 \ufffd \u0000 \u007f Ω'),
}
const ALPHA_NAMES = Object.keys(ALPHABETS)

const randText = (n, alphabet) => {
  const out = []
  for (let i = 0; i < n; i++) {
    const a = alphabet || ALPHABETS[pick(ALPHA_NAMES)]
    out.push(pick(a))
  }
  return out.join('')
}

// Some fixed documents with nasty grapheme clusters, used now and then.
const FIXED_DOCS = [
  '',
  'hi',
  'abc',
  '😭',
  '🤸🏼‍♀️ cartwheel',
  'e\u0301e\u0301e\u0301',
  '中文 and English 😅',
  '👩‍👩‍👧‍👦 family',
  'line1\nline2\nline3',
]

const randDoc = () => {
  if (chance(0.1)) return pick(FIXED_DOCS)
  const len = chance(0.15) ? randInt(80) : randInt(25)
  // Mostly one alphabet per doc, sometimes a mix.
  return chance(0.6) ? randText(len, ALPHABETS[pick(ALPHA_NAMES)]) : randText(len)
}

const uniLen = s => Array.from(s).length
const uniSlice = (s, a, b) => Array.from(s).slice(a, b).join('')

// randOp returns a valid op (it passes checkOp and applies to doc). When
// raw is true the op may be left unnormalized: adjacent inserts or deletes,
// which checkOp accepts.
const randOp = (doc, raw) => {
  const chars = Array.from(doc)
  let pos = 0
  const op = []
  const pushSkip = n => {
    if (n <= 0) return
    pos += n
    if (typeof op[op.length - 1] === 'number') op[op.length - 1] += n
    else op.push(n)
  }
  const steps = 1 + randInt(chance(0.2) ? 10 : 4)
  for (let s = 0; s < steps; s++) {
    const left = chars.length - pos
    pushSkip(randInt(Math.min(left, 8) + 1))
    const what = randInt(3)
    if (what === 0 || pos === chars.length) {
      op.push(randText(1 + randInt(chance(0.1) ? 12 : 4)))
    } else {
      const left2 = chars.length - pos
      const n = 1 + randInt(Math.min(left2, 8))
      if (chance(0.5)) op.push({d: chars.slice(pos, pos + n).join('')})
      else op.push({d: n})
      pos += n
    }
    if (what === 2 && chance(0.3)) op.push(randText(1 + randInt(3))) // replace
  }
  // An insert at the very end, now and then.
  if (chance(0.15)) {
    pushSkip(chars.length - pos)
    op.push(randText(1 + randInt(3)))
  }
  while (typeof op[op.length - 1] === 'number') op.pop()
  return raw ? op : type.normalize(op)
}

// randAnyOp returns a valid op with no relation to any document.
const randAnyOp = () => randOp(randText(randInt(30)), chance(0.3))

const clone = x => JSON.parse(JSON.stringify(x))

const run = fn => {
  try {
    return {result: fn()}
  } catch (e) {
    return {error: String(e && e.message || e)}
  }
}

// mismatch reports whether a {d:"text"} in op differs from the document.
const mismatch = (doc, op) => {
  let pos = 0
  for (const c of op) {
    if (typeof c === 'number') pos += c
    else if (typeof c === 'object' && c) {
      const n = typeof c.d === 'number' ? c.d : uniLen(c.d)
      if (typeof c.d === 'string' && uniSlice(doc, pos, pos + n) !== c.d) return true
      pos += n
    }
  }
  return false
}

// breakOp returns a copy of a valid op changed in one random way. Some
// changes keep it valid (adjacent inserts or deletes), most do not.
const breakOp = op => {
  op = clone(op)
  const i = randInt(op.length + 1)
  switch (randInt(12)) {
    case 0: op.splice(i, 0, 0); break // zero skip
    case 1: op.splice(i, 0, -1 - randInt(3)); break // negative skip
    case 2: op.push(1 + randInt(5)); break // trailing skip
    case 3: op.splice(i, 0, 2, 3); break // adjacent skips (maybe)
    case 4: op.splice(i, 0, ''); break // empty insert
    case 5: op.splice(i, 0, {d: 0}); break
    case 6: op.splice(i, 0, {d: ''}); break
    case 7: op.splice(i, 0, {d: -1 - randInt(3)}); break
    case 8: op.splice(i, 0, randText(2)); break // maybe adjacent inserts: valid
    case 9: op.splice(i, 0, {d: 1 + randInt(3)}); break // maybe adjacent deletes: valid
    case 10: op.splice(i, 0, {d: randText(2)}); break
    case 11: op.splice(i, 0, randText(1), randText(1)); break // adjacent inserts: valid
  }
  return op
}

const cases = []
const add = c => cases.push(c)
// addApply records an apply case, marking a {d:"text"} that does not match.
const addApply = (doc, op) => {
  const c = {kind: 'apply', doc, op: clone(op)}
  if (mismatch(doc, op)) c.mismatch = true
  add({...c, ...run(() => type.apply(doc, clone(op)))})
}

// --- apply -----------------------------------------------------------------
for (let i = 0; i < N(900); i++) {
  const doc = randDoc()
  const op = randOp(doc, chance(0.3))
  addApply(doc, op)
}
// Skip past the end of the document: the npm type throws.
for (let i = 0; i < N(60); i++) {
  const doc = randDoc()
  const longer = doc + randText(1 + randInt(5))
  let op = randOp(longer, false)
  // Make sure something walks past the end: skip to the end and insert.
  if (chance(0.5)) op = type.normalize([uniLen(longer), 'x'])
  addApply(doc, op)
}
// A numeric delete past the end is cut short silently by the npm type.
for (let i = 0; i < N(40); i++) {
  const doc = randDoc()
  const n = uniLen(doc)
  const at = randInt(n + 1)
  const op = type.normalize([at, {d: n - at + 1 + randInt(4)}, chance(0.5) ? 'z' : ''])
  addApply(doc, op)
}
// A {d:"text"} that does not match the document: npm applies it anyway.
for (let i = 0; i < N(80); i++) {
  let doc = randDoc()
  if (uniLen(doc) === 0) doc = 'abc'
  const n = uniLen(doc)
  const at = randInt(n)
  const len = 1 + randInt(Math.min(n - at, 4))
  let text = randText(len)
  if (text === uniSlice(doc, at, at + len)) text = '#'.repeat(len)
  if (chance(0.2)) text = uniSlice(doc, at, n) + 'q' // runs past the end
  const op = type.normalize([at, {d: text}])
  addApply(doc, op)
}
// Malformed ops: apply runs checkOp first.
for (let i = 0; i < N(60); i++) {
  const doc = randDoc()
  const op = breakOp(randOp(doc, false))
  addApply(doc, op)
}

// --- transform -------------------------------------------------------------
for (let i = 0; i < N(700); i++) {
  const doc = randDoc()
  const a = randOp(doc, chance(0.3))
  const b = randOp(doc, chance(0.3))
  for (const side of ['left', 'right']) {
    add({kind: 'transform', doc, op: clone(a), other: clone(b), side,
      ...run(() => type.transform(clone(a), clone(b), side))})
  }
}
// Ops that need not apply to the same document: transform does not care.
for (let i = 0; i < N(80); i++) {
  const a = randAnyOp(), b = randAnyOp()
  const side = chance(0.5) ? 'left' : 'right'
  add({kind: 'transform', op: clone(a), other: clone(b), side, ...run(() => type.transform(clone(a), clone(b), side))})
}
// Malformed ops and a bad side throw.
for (let i = 0; i < N(40); i++) {
  const doc = randDoc()
  let a = randOp(doc, false), b = randOp(doc, false)
  if (chance(0.5)) a = breakOp(a); else b = breakOp(b)
  const side = chance(0.5) ? 'left' : 'right'
  add({kind: 'transform', op: clone(a), other: clone(b), side, ...run(() => type.transform(clone(a), clone(b), side))})
}
for (const side of ['middle', '', 'Left']) {
  add({kind: 'transform', op: ['a'], other: ['b'], side, ...run(() => type.transform(['a'], ['b'], side))})
}

// --- compose ---------------------------------------------------------------
for (let i = 0; i < N(700); i++) {
  const doc = randDoc()
  const a = randOp(doc, chance(0.3))
  const mid = type.apply(doc, clone(a))
  const b = randOp(mid, chance(0.3))
  add({kind: 'compose', doc, a: clone(a), b: clone(b), ...run(() => type.compose(clone(a), clone(b)))})
}
for (let i = 0; i < N(80); i++) {
  const a = randAnyOp(), b = randAnyOp()
  add({kind: 'compose', a: clone(a), b: clone(b), ...run(() => type.compose(clone(a), clone(b)))})
}
for (let i = 0; i < N(40); i++) {
  const doc = randDoc()
  let a = randOp(doc, false), b = randOp(type.apply(doc, clone(a)), false)
  if (chance(0.5)) a = breakOp(a); else b = breakOp(b)
  add({kind: 'compose', a: clone(a), b: clone(b), ...run(() => type.compose(clone(a), clone(b)))})
}

// --- transformPosition -----------------------------------------------------
for (let i = 0; i < N(500); i++) {
  const doc = randDoc()
  const op = randOp(doc, chance(0.3))
  const n = uniLen(doc)
  const pos = chance(0.05) ? -1 - randInt(3) : randInt(n + 3)
  add({kind: 'transformPosition', doc, pos, op: clone(op), ...run(() => type.transformPosition(pos, clone(op)))})
}

// --- checkOp ---------------------------------------------------------------
for (let i = 0; i < N(300); i++) {
  const op = chance(0.15) ? randAnyOp() : breakOp(randAnyOp())
  const r = run(() => { type.checkOp(clone(op)); return true })
  add({kind: 'checkOp', op, ...r})
}
for (const op of [[], [0], [1], [1, 'a', 1], ['a', 'b'], [{d: 1}, {d: 'x'}], [1, 1, 'a'], [-1, 'a'], [''], [{d: 0}], [{d: ''}], [{d: -2}]]) {
  add({kind: 'checkOp', op, ...run(() => { type.checkOp(clone(op)); return true })})
}

// --- normalize -------------------------------------------------------------
for (let i = 0; i < N(200); i++) {
  let op = randAnyOp()
  const extra = randInt(4)
  for (let j = 0; j < extra; j++) {
    const k = randInt(op.length + 1)
    op.splice(k, 0, pick([0, '', {d: 0}, {d: ''}, 1 + randInt(3), randText(1), {d: 1 + randInt(2)}, {d: randText(1)}]))
  }
  // No negative numbers here: those are garbage in, garbage out.
  add({kind: 'normalize', op: clone(op), ...run(() => type.normalize(clone(op)))})
}
add({kind: 'normalize', op: [0, 'a', 'b', 1, 0, 2, {d: 1}, {d: 'x'}, 3], ...run(() => type.normalize([0, 'a', 'b', 1, 0, 2, {d: 1}, {d: 'x'}, 3]))})

// --- invert and friends ----------------------------------------------------
for (let i = 0; i < N(150); i++) {
  const doc = randDoc()
  const op = randOp(doc, chance(0.3))
  add({kind: 'makeInvertible', doc, op: clone(op), ...run(() => type.makeInvertible(clone(op), doc))})
  const inv = type.makeInvertible(clone(op), doc)
  const useOp = chance(0.7) ? inv : op // numeric deletes throw in invert
  add({kind: 'invert', doc, op: clone(useOp), ...run(() => type.invert(clone(useOp)))})
  add({kind: 'stripInvertible', op: clone(inv), ...run(() => type.stripInvertible(clone(inv)))})
  add({kind: 'isInvertible', op: clone(op), ...run(() => type.isInvertible(clone(op)))})
}
// makeInvertible on ops that reach past the end of the document.
for (let i = 0; i < N(30); i++) {
  const doc = randDoc()
  const n = uniLen(doc)
  const at = randInt(n + 2)
  const op = type.normalize([at, {d: 1 + randInt(4)}, randInt(3), chance(0.5) ? {d: 2} : 'y'])
  add({kind: 'makeInvertible', doc, op: clone(op), ...run(() => type.makeInvertible(clone(op), doc))})
}

const counts = {}
for (const c of cases) counts[c.kind] = (counts[c.kind] || 0) + 1

const header = {
  generator: 'collab/ot/testdata/gen/gen.js',
  package: `${pkg.name}@${pkg.version}`,
  seed: SEED,
  counts,
}
let out = JSON.stringify(header).slice(0, -1) + ',"cases":[\n'
out += cases.map(c => JSON.stringify(c)).join(',\n')
out += '\n]}\n'
fs.writeFileSync(OUT, out)
console.log(`wrote ${cases.length} cases (${out.length} bytes) to ${OUT}`)
console.log(counts)
