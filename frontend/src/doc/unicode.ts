// Positions: CodeMirror counts UTF-16 code units, ot-text-unicode (and so
// the server, threads and presence) counts Unicode code points. The two
// agree until a text holds a character outside the Basic Multilingual
// Plane (an emoji, say), so every conversion takes a flag saying whether
// the text may hold one and is free when it does not.

import type { ChangeSet, ChangeSpec, Text } from "@codemirror/state";

/** An ot-text-unicode operation: skip n, insert "s", delete {d: n | "s"}. */
export type TextOp = (number | string | { d: number | string })[];

/** Reports whether s may hold a surrogate pair. */
export function mayHaveAstral(s: string): boolean {
  return /[\uD800-\uDBFF]/.test(s);
}

/** The number of code points in s (a lone surrogate counts as one). */
export function cpLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** The number of code points in text[from, to) (UTF-16 offsets). */
export function countCodePoints(text: Text, from: number, to: number, astral: boolean): number {
  if (to <= from) return 0;
  if (!astral) return to - from;
  let n = 0;
  const it = text.iterRange(from, to);
  while (!it.next().done) n += cpLength(it.value);
  return n;
}

/** The UTF-16 offset reached by moving n code points forward from pos. */
export function advance(text: Text, pos: number, n: number, astral: boolean): number {
  if (!astral) return Math.min(pos + n, text.length);
  const it = text.iterRange(pos, text.length);
  while (n > 0 && !it.next().done) {
    const s = it.value;
    if (s.length <= n && cpLength(s) <= n) {
      // The whole chunk fits; it cannot end inside a pair, because
      // chunks are lines or line breaks.
      n -= cpLength(s);
      pos += s.length;
      continue;
    }
    for (let i = 0; i < s.length && n > 0; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          i++;
          pos++;
        }
      }
      pos++;
      n--;
    }
  }
  return pos;
}

/** Converts a code point position to a UTF-16 offset in text. */
export function toUTF16(text: Text, cp: number, astral: boolean): number {
  return advance(text, 0, Math.max(0, cp), astral);
}

/** Converts a UTF-16 offset in text to a code point position. */
export function toCodePoints(text: Text, pos: number, astral: boolean): number {
  return countCodePoints(text, 0, Math.min(pos, text.length), astral);
}

/**
 * Turns a CodeMirror change set, made against oldDoc, into one
 * ot-text-unicode op.
 */
export function changesToOp(changes: ChangeSet, oldDoc: Text, astral: boolean): TextOp {
  const op: TextOp = [];
  let last = 0;
  changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
    const skip = countCodePoints(oldDoc, last, fromA, astral);
    if (skip > 0) op.push(skip);
    const ins = inserted.toString();
    if (ins) op.push(ins);
    const del = countCodePoints(oldDoc, fromA, toA, astral);
    if (del > 0) op.push({ d: del });
    last = toA;
  });
  return op;
}

/** Turns an op on doc into CodeMirror changes (in doc's coordinates). */
export function opToChanges(op: TextOp, doc: Text, astral: boolean): ChangeSpec[] {
  const out: ChangeSpec[] = [];
  let pos = 0;
  for (const c of op) {
    if (typeof c === "number") {
      pos = advance(doc, pos, c, astral);
    } else if (typeof c === "string") {
      out.push({ from: pos, insert: c });
    } else {
      const n = typeof c.d === "number" ? c.d : cpLength(c.d);
      const end = advance(doc, pos, n, astral);
      out.push({ from: pos, to: end });
      pos = end;
    }
  }
  return out;
}

/**
 * Moves a code point position through an op. Text inserted exactly at the
 * position goes after it when right is false and before it when right is
 * true (a range's start uses right, its end does not, so that text typed at
 * either end stays outside the range, as the server moves anchors).
 */
export function transformPosition(cursor: number, op: TextOp, right = false): number {
  let pos = 0;
  for (const c of op) {
    if (cursor < pos || (cursor === pos && !right && typeof c === "string")) break;
    if (typeof c === "number") {
      pos += c;
    } else if (typeof c === "string") {
      const n = cpLength(c);
      pos += n;
      cursor += n;
    } else {
      const n = typeof c.d === "number" ? c.d : cpLength(c.d);
      cursor -= Math.min(n, cursor - pos);
    }
  }
  return cursor;
}
