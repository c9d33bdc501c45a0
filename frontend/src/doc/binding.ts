// The binding between a CodeMirror view and a ShareDB document of type
// ot-text-unicode: every local transaction becomes one op (code points),
// every remote op becomes one transaction annotated as remote, so that it
// is neither sent back nor put in the undo history.

import { Annotation, ChangeSet, Text, Transaction } from "@codemirror/state";
import type { Extension } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import type { ViewUpdate } from "@codemirror/view";
import type { Doc } from "sharedb/lib/client";
import {
  changesToOp,
  mayHaveAstral,
  opToChanges,
  toCodePoints,
  toUTF16,
  transformPosition,
  type TextOp,
} from "./unicode";

/** Marks transactions that apply what came from the server. */
export const remoteChange = Annotation.define<boolean>();

/** The source ShareDB reports for ops submitted by this binding. */
export const LOCAL = "docket-editor";

/** Binding keeps a view and a ShareDB document in step. */
export class Binding {
  view!: EditorView;
  /** Whether the text may hold characters outside the BMP. */
  astral = false;
  /** Whether the document is loaded and local edits are sent. */
  live = false;
  /**
   * Local edits (one a transaction) not yet acknowledged by the server:
   * typed before the document loaded, or sent and waiting for the ack.
   */
  waiting = 0;
  // Edits typed before the document first loads: the text they were made
  // on (the page's) and the changes, composed.
  private base: Text | null = null;
  private early: ChangeSet | null = null;
  private changeListeners = new Set<(changes: ChangeSet, remote: boolean) => void>();
  private loadListeners: (() => void)[] = [];

  constructor(
    readonly doc: Doc,
    readonly docId: string,
    private onSubmitError: (err: Error) => void,
  ) {
    doc.on("op", (op: TextOp, source: unknown) => {
      if (source === LOCAL) return;
      this.applyRemote(op);
    });
    doc.on("load", () => this.load());
  }

  /** The editor extension that sends local edits. */
  extension(): Extension {
    return EditorView.updateListener.of((u) => this.update(u));
  }

  /** Calls fn after each load of the document's snapshot. */
  onLoad(fn: () => void): void {
    this.loadListeners.push(fn);
  }

  /** Calls fn with every change to the text; returns a function to stop. */
  onChanges(fn: (changes: ChangeSet, remote: boolean) => void): () => void {
    this.changeListeners.add(fn);
    return () => this.changeListeners.delete(fn);
  }

  private update(u: ViewUpdate): void {
    let sent = false;
    for (const tr of u.transactions) {
      if (!tr.docChanged) continue;
      const remote = !!tr.annotation(remoteChange);
      for (const fn of this.changeListeners) fn(tr.changes, remote);
      if (remote) continue;
      if (!this.live) {
        // Typed before the snapshot came: kept, and sent once it has.
        this.waiting++;
        if (!this.early) {
          this.base = tr.startState.doc;
          this.early = tr.changes;
        } else {
          this.early = this.early.compose(tr.changes);
        }
        continue;
      }
      const op = changesToOp(tr.changes, tr.startState.doc, this.astral);
      tr.changes.iterChanges((_a, _b, _c, _d, ins) => {
        if (!this.astral && ins.length && mayHaveAstral(ins.toString())) this.astral = true;
      });
      if (!op.some((c) => typeof c !== "number")) continue;
      this.submit(op, 1);
      sent = true;
    }
    if (!sent) return;
    // ShareDB sends on its next tick (a task), which the browser runs only
    // after the frame that this keystroke asks for (style, layout and
    // CodeMirror's measuring of a long page): send now instead. The op of
    // one transaction has nothing to be combined with.
    this.doc.flush();
    this.check();
  }

  /** Sends op, which carries n local edits, and counts them until acked. */
  private submit(op: TextOp, n: number): void {
    this.waiting += n;
    this.doc.submitOp(op, { source: LOCAL }, (err) => {
      this.waiting = Math.max(0, this.waiting - n);
      if (err) this.onSubmitError(err);
    });
  }

  private applyRemote(op: TextOp): void {
    const view = this.view;
    if (!view || !this.live) return;
    const changes = opToChanges(op, view.state.doc, this.astral);
    for (const c of op) if (typeof c === "string" && mayHaveAstral(c)) this.astral = true;
    view.dispatch({
      changes,
      annotations: [remoteChange.of(true), Transaction.addToHistory.of(false)],
    });
    this.check();
  }

  /**
   * Takes the document's text into the editor. On the first load, edits
   * typed on the page's copy of the text are rebased onto the document's
   * (CodeMirror's change mapping is an OT transform) and sent as one op;
   * on later loads (after the server refused an op) the editor simply
   * takes the document's text, changing the least.
   */
  private load(): void {
    const text: string = typeof this.doc.data === "string" ? this.doc.data : "";
    const early = this.early;
    const base = this.base;
    this.early = this.base = null;
    this.astral = mayHaveAstral(text);
    this.live = true;
    if (!early || !base) {
      this.replaceAll(text);
    } else {
      const page = base.toString();
      const toServer = ChangeSet.of(diff(page, text), page.length);
      const view = this.view;
      view.dispatch({
        changes: toServer.map(early),
        annotations: [remoteChange.of(true), Transaction.addToHistory.of(false)],
      });
      const mine = early.map(toServer, true);
      const op = changesToOp(mine, Text.of(text.split("\n")), this.astral);
      mine.iterChanges((_a, _b, _c, _d, ins) => {
        if (!this.astral && ins.length && mayHaveAstral(ins.toString())) this.astral = true;
      });
      const typed = this.waiting;
      this.waiting = 0;
      if (op.some((c) => typeof c !== "number")) this.submit(op, typed);
      this.check();
    }
    for (const fn of this.loadListeners) fn();
  }

  private replaceAll(text: string): void {
    const view = this.view;
    const old = view.state.doc.toString();
    if (old === text) return;
    view.dispatch({
      changes: diff(old, text),
      annotations: [remoteChange.of(true), Transaction.addToHistory.of(false)],
    });
  }

  /**
   * A safety net: if the editor and the document ever disagree on the
   * length, the document wins (it holds every local edit too).
   */
  private check(): void {
    const data = this.doc.data;
    if (typeof data === "string" && data.length !== this.view.state.doc.length) {
      console.warn("docket: editor out of step with the document; reloading its text");
      this.astral = mayHaveAstral(data);
      this.replaceAll(data);
    }
  }

  /** The code point position of a UTF-16 offset in the current text. */
  codePoints(pos: number): number {
    return toCodePoints(this.view.state.doc, pos, this.astral);
  }

  /** The UTF-16 offset of a code point position in the current text. */
  utf16(cp: number): number {
    return toUTF16(this.view.state.doc, cp, this.astral);
  }

  /** The ops this client sent or will send that the server has not acked. */
  private localOps(): TextOp[] {
    const out: TextOp[] = [];
    if (this.doc.inflightOp?.op) out.push(this.doc.inflightOp.op as TextOp);
    for (const p of this.doc.pendingOps) if (p.op) out.push(p.op as TextOp);
    return out;
  }

  /**
   * Moves code point positions at the server's version v to the current
   * text and returns them as editor offsets: through the ops committed
   * since v (from the history API when this client has not kept them) and
   * then through this client's unacknowledged ops. right says, for each
   * position, whether text inserted exactly there goes before it.
   */
  async positionsAt(v: number, cps: number[], right: boolean[]): Promise<number[]> {
    let ps = cps.slice();
    for (let round = 0; round < 6; round++) {
      const cur = this.doc.version ?? 0;
      if (v === cur) break;
      if (v > cur) {
        // The page was rendered after the snapshot we hold: wait for the ops.
        if (!(await this.waitVersion(v, 3000))) break;
        continue;
      }
      let res: Response;
      try {
        res = await fetch(`/api/docs/${encodeURIComponent(this.docId)}/history?from=${v}&limit=1000`, {
          credentials: "same-origin",
        });
      } catch {
        break;
      }
      if (!res.ok) break;
      const body = (await res.json()) as { ops: { v: number; op: TextOp }[] };
      for (const rec of body.ops) {
        if (rec.v !== v || v >= (this.doc.version ?? 0)) break;
        ps = ps.map((p, i) => transformPosition(p, rec.op, right[i]));
        v++;
      }
      if (!body.ops.length) break;
    }
    for (const op of this.localOps()) ps = ps.map((p, i) => transformPosition(p, op, right[i]));
    return ps.map((p) => this.utf16(p));
  }

  /**
   * Moves code point positions sent by another client at the server's
   * version v (equal to the version this client holds) through this
   * client's unacknowledged ops, and returns them as editor offsets.
   */
  presenceAt(cps: number[]): number[] {
    let ps = cps;
    for (const op of this.localOps()) ps = ps.map((p) => transformPosition(p, op));
    const len = this.view.state.doc.length;
    return ps.map((p) => Math.min(this.utf16(p), len));
  }

  /**
   * Resolves, once nothing of ours waits for the server, with the range
   * [from, to) of the current text (followed through the edits made in
   * the meantime) in code points at the document's version.
   */
  rangeWhenSaved(from: number, to: number): Promise<{ version: number; start: number; end: number }> {
    return new Promise((resolve) => {
      let a = from;
      let b = to;
      const stop = this.onChanges((changes) => {
        a = changes.mapPos(a, 1);
        b = changes.mapPos(b, -1);
      });
      this.doc.whenNothingPending(() => {
        stop();
        resolve({ version: this.doc.version ?? 0, start: this.codePoints(a), end: this.codePoints(Math.max(a, b)) });
      });
    });
  }

  private waitVersion(v: number, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        this.doc.off("op", onOp);
        window.clearTimeout(timer);
        resolve(ok);
      };
      const onOp = () => {
        if ((this.doc.version ?? 0) >= v) done(true);
      };
      const timer = window.setTimeout(() => done(false), ms);
      this.doc.on("op", onOp);
    });
  }
}

/** The one replacement that turns a into b: their common ends are kept. */
function diff(a: string, b: string): { from: number; to: number; insert: string } {
  let start = 0;
  const max = Math.min(a.length, b.length);
  while (start < max && a.charCodeAt(start) === b.charCodeAt(start)) start++;
  let end = 0;
  while (end < max - start && a.charCodeAt(a.length - 1 - end) === b.charCodeAt(b.length - 1 - end)) end++;
  return { from: start, to: a.length - end, insert: b.slice(start, b.length - end) };
}
