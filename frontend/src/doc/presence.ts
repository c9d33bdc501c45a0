// Presence: this client's cursor and selection go to the document's
// presence channel ("docs.<id>") as {anchor, head, v, name, user}, with
// positions in code points at the server version v (the server moves
// them through later ops and rewrites v); other people's come back the
// same way and are drawn as cursors with their names. The list of people
// here now is built from the same presences.

import { StateEffect, StateField } from "@codemirror/state";
import type { EditorState, Extension, Range } from "@codemirror/state";
import { Decoration, EditorView, WidgetType } from "@codemirror/view";
import type { DecorationSet } from "@codemirror/view";
import type { Connection, Doc, LocalPresence, Presence } from "sharedb/lib/client";
import { Binding, LOCAL, remoteChange } from "./binding";
import { colorIndex } from "./styles";
import { element, soon } from "../dom";

/** What a client publishes about itself. */
interface PresenceValue {
  anchor?: number;
  head?: number;
  v?: number;
  name?: string;
  user?: string;
}

/** Another person's cursor in editor offsets. */
export interface RemoteCursor {
  id: string;
  name: string;
  user: string;
  color: number;
  anchor: number;
  head: number;
  /** Counts the person's moves: a new one shows the name again. */
  moves: number;
}

let moves = 0;

const setCursor = StateEffect.define<{ id: string; cursor: RemoteCursor | null }>();

const cursorsField = StateField.define<ReadonlyMap<string, RemoteCursor>>({
  create: () => new Map(),
  update(cursors, tr) {
    let next: Map<string, RemoteCursor> | null = null;
    if (tr.docChanged) {
      // A remote edit is typed at its author's cursor: keep the cursor
      // after it. A local edit at someone's cursor leaves theirs before.
      const assoc = tr.annotation(remoteChange) ? 1 : -1;
      next = new Map();
      for (const [id, c] of cursors) {
        next.set(id, {
          ...c,
          anchor: tr.changes.mapPos(c.anchor, assoc),
          head: tr.changes.mapPos(c.head, assoc),
        });
      }
    }
    for (const e of tr.effects) {
      if (!e.is(setCursor)) continue;
      next ??= new Map(cursors);
      if (e.value.cursor) next.set(e.value.id, e.value.cursor);
      else next.delete(e.value.id);
    }
    return next ?? cursors;
  },
});

class CursorWidget extends WidgetType {
  constructor(
    readonly name: string,
    readonly color: number,
    readonly moves: number,
  ) {
    super();
  }
  // A new DOM node for each move replays the name's show-and-fade
  // animation: the name shows while the person types, and on hover.
  eq(other: CursorWidget): boolean {
    return other.name === this.name && other.color === this.color && other.moves === this.moves;
  }
  toDOM(): HTMLElement {
    const cursor = element("span", { className: `dk-cursor dk-c${this.color}` });
    cursor.setAttribute("aria-hidden", "true");
    cursor.append(element("span", { className: "dk-cursor-name", textContent: this.name }));
    return cursor;
  }
  ignoreEvent(): boolean {
    return true;
  }
}

function cursorDecorations(state: EditorState): DecorationSet {
  const ranges: Range<Decoration>[] = [];
  const len = state.doc.length;
  for (const c of state.field(cursorsField).values()) {
    const head = Math.min(c.head, len);
    const anchor = Math.min(c.anchor, len);
    const from = Math.min(head, anchor);
    const to = Math.max(head, anchor);
    if (from < to) ranges.push(Decoration.mark({ class: `dk-rsel dk-c${c.color}` }).range(from, to));
    ranges.push(Decoration.widget({ widget: new CursorWidget(c.name, c.color, c.moves), side: 1 }).range(head));
  }
  return Decoration.set(ranges, true);
}

/** The editor extension that draws other people's cursors. */
export function cursorsExtension(): Extension {
  return [cursorsField, EditorView.decorations.compute([cursorsField], cursorDecorations)];
}

/** A person in the document now. */
export interface Person {
  user: string;
  name: string;
  color: number;
  me: boolean;
}

/** PresenceSync publishes this client's selection and follows the others'. */
export class PresenceSync {
  private presence: Presence;
  private local: LocalPresence;
  private waiting = new Map<string, PresenceValue>(); // values for a version we lack yet
  private people = new Map<string, PresenceValue>();
  /** Publishes the selection shortly (at most ~12 times a second). */
  readonly publishSoon = soon(() => this.publish(), 80);
  private listeners: ((people: Person[]) => void)[] = [];

  constructor(
    private connection: Connection,
    private doc: Doc,
    private binding: Binding,
    private me: { user: string; name: string },
  ) {
    this.presence = connection.getPresence("docs." + doc.id);
    this.local = this.presence.create(me.user + "-" + Math.random().toString(36).slice(2, 10));
    this.presence.on("error", (err: Error) => console.warn("docket presence:", err));
    this.presence.on("receive", (id: string, value: PresenceValue | null) => this.receive(id, value));
    this.presence.subscribe((err) => {
      if (err) console.warn("docket presence:", err);
    });
    doc.on("op", (_op: unknown, source: unknown) => {
      if (source !== LOCAL && this.waiting.size) queueMicrotask(() => this.resolveWaiting());
    });
    connection.on("connected", () => this.publishSoon());
    connection.on("disconnected", () => {
      // Everyone else's cursor is stale until we are back.
      for (const id of [...this.people.keys()]) this.receive(id, null);
    });
  }

  /** Calls fn with the people here now whenever the list changes. */
  onPeople(fn: (people: Person[]) => void): void {
    this.listeners.push(fn);
    fn(this.list());
  }

  /** The editor extension that publishes selection changes. */
  extension(): Extension {
    return EditorView.updateListener.of((u) => {
      if (u.selectionSet || u.focusChanged) this.publishSoon();
    });
  }


  private publish(): void {
    if (!this.binding.live || !this.doc.type) return;
    // Positions go out at a version the server knows: once our edits are
    // acknowledged, when the editor's text is the server's at doc.version.
    this.doc.whenNothingPending(() => {
      const view = this.binding.view;
      const sel = view.state.selection.main;
      const value: PresenceValue = {
        anchor: this.binding.codePoints(sel.anchor),
        head: this.binding.codePoints(sel.head),
        v: this.doc.version ?? 0,
        name: this.me.name,
        user: this.me.user,
      };
      this.local.submit(value, (err) => {
        if (err) console.warn("docket presence:", err);
      });
    });
  }

  private receive(id: string, value: PresenceValue | null): void {
    if (!value) {
      this.waiting.delete(id);
      if (this.people.delete(id)) this.peopleChanged();
      this.dispatch(id, null);
      return;
    }
    const known = this.people.get(id);
    this.people.set(id, value);
    if (!known || known.name !== value.name || known.user !== value.user) this.peopleChanged();
    this.waiting.set(id, value);
    this.resolveWaiting();
  }

  private resolveWaiting(): void {
    if (!this.binding.live) return;
    const have = this.doc.version ?? 0;
    for (const [id, value] of this.waiting) {
      if (typeof value.v === "number" && value.v > have) continue; // ops still on their way
      this.waiting.delete(id);
      if (typeof value.anchor !== "number" || typeof value.head !== "number") continue;
      const [anchor, head] = this.binding.presenceAt([value.anchor, value.head]);
      const user = value.user || id;
      this.dispatch(id, {
        id,
        name: value.name || "Someone",
        user,
        color: colorIndex(user),
        anchor,
        head,
        moves: ++moves,
      });
    }
  }

  private dispatch(id: string, cursor: RemoteCursor | null): void {
    const view = this.binding.view;
    if (!view) return;
    if (!cursor && !view.state.field(cursorsField).has(id)) return;
    view.dispatch({ effects: setCursor.of({ id, cursor }) });
  }

  private list(): Person[] {
    const out: Person[] = [{ user: this.me.user, name: this.me.name, color: colorIndex(this.me.user), me: true }];
    const seen = new Set([this.me.user]);
    for (const [id, v] of this.people) {
      const user = v.user || id;
      if (seen.has(user)) continue;
      seen.add(user);
      out.push({ user, name: v.name || "Someone", color: colorIndex(user), me: false });
    }
    return out;
  }

  private peopleChanged(): void {
    const people = this.list();
    for (const fn of this.listeners) fn(people);
  }
}
