// Threads in the editor and the preview: the page lists threads as
// <article class="thread" id="t-ID" data-start data-end data-status> in
// #threads, with positions in code points at the page's data-version.
// They become editor marks that CodeMirror maps through every edit, local
// or remote, with exclusive ends (text typed exactly at either end stays
// outside, as the server moves anchors), and CSS highlights in the
// preview. Selecting text offers a button that starts a thread there, and
// one that suggests a change of it (a thread with a replacement, shown in
// the editor as a struck-through mark).

import { StateEffect, StateField } from "@codemirror/state";
import type { EditorState, Extension, Range } from "@codemirror/state";
import { Decoration, EditorView, keymap, showTooltip } from "@codemirror/view";
import type { DecorationSet, Tooltip } from "@codemirror/view";
import type { Binding } from "./binding";
import { element } from "../dom";
import { framed } from "../theme";

/** A thread's range in editor offsets. */
export interface ThreadRange {
  id: string;
  from: number;
  to: number;
  /** The replacement of an open suggested change. */
  replacement?: string;
}

const setThreads = StateEffect.define<ThreadRange[]>();

const threadField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    deco = deco.map(tr.changes);
    for (const e of tr.effects) {
      if (!e.is(setThreads)) continue;
      const ranges: Range<Decoration>[] = [];
      for (const t of e.value) {
        if (t.from >= t.to) continue;
        const suggest = t.replacement !== undefined;
        ranges.push(
          Decoration.mark({
            class: suggest ? "dk-thread dk-suggestion" : "dk-thread",
            attributes: suggest ? { "data-thread": t.id, "data-replacement": t.replacement! } : { "data-thread": t.id },
            inclusiveStart: false,
            inclusiveEnd: false,
          }).range(t.from, t.to),
        );
      }
      deco = Decoration.set(ranges, true);
    }
    return deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

/** Moves the comment tooltip once it holds the form. */
const formShown = StateEffect.define<null>();

/** The text a comment is being written about, while it is. */
const setDraft = StateEffect.define<{ from: number; to: number } | null>();

const draftField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    deco = deco.map(tr.changes);
    for (const e of tr.effects) {
      if (!e.is(setDraft)) continue;
      deco = e.value && e.value.from < e.value.to ? Decoration.set([draftMark.range(e.value.from, e.value.to)]) : Decoration.none;
    }
    return deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

const draftMark = Decoration.mark({ class: "dk-thread dk-draft-mark", inclusiveStart: false, inclusiveEnd: false });

/** The range a comment is being written about, if any. */
export function draftRange(state: EditorState): { from: number; to: number } | null {
  let out: { from: number; to: number } | null = null;
  state.field(draftField, false)?.between(0, state.doc.length, (from, to) => {
    out = { from, to };
  });
  return out;
}

/** The current thread ranges of an editor state. */
export function threadRanges(state: EditorState): ThreadRange[] {
  const out: ThreadRange[] = [];
  state.field(threadField).between(0, state.doc.length, (from, to, value) => {
    const attrs = value.spec.attributes as Record<string, string> | undefined;
    const id = attrs?.["data-thread"];
    if (id) out.push({ id, from, to, replacement: attrs?.["data-replacement"] });
  });
  return out;
}

/** What the thread code needs from the page. */
export interface ThreadHost {
  binding: Binding;
  docId: string;
  canComment: boolean;
  /** Called when a thread was created, with its id. */
  created(threadId: string): Promise<void>;
  /** Called when thread marks moved or changed. */
  changed(): void;
  /** Whether thread cards sit in the margin beside the text. */
  inMargin(): boolean;
}

/** Threads wires thread marks, the comment button and the panel. */
export class Threads {
  private tooltipDOM: HTMLElement;
  private openForm = false;
  /** The new comment's card in the margin, while it is written. */
  private card: HTMLElement | null = null;

  constructor(private host: ThreadHost) {
    this.tooltipDOM = element("div", { className: "dk-comment-tip" });
    this.renderButton();
  }

  /** The editor extensions: marks, the comment tooltip, Mod-Alt-m. */
  extension(): Extension {
    const exts: Extension[] = [
      threadField,
      draftField,
      EditorView.updateListener.of((u) => {
        if (u.docChanged || u.transactions.some((tr) => tr.effects.some((e) => e.is(setThreads) || e.is(setDraft)))) {
          this.host.changed();
        }
        // A draft nobody wrote in goes when the selection does.
        if (this.card && u.selectionSet && u.state.selection.main.empty && !this.cardText()) this.closeCard(false);
      }),
      EditorView.domEventHandlers({
        click: (ev, view) => {
          const pos = view.posAtCoords({ x: ev.clientX, y: ev.clientY });
          if (pos == null) return false;
          const hit = threadRanges(view.state).find((t) => t.from <= pos && pos <= t.to);
          if (hit) activateThread(hit.id, true);
          return false;
        },
      }),
    ];
    if (this.host.canComment) {
      const tooltipField = StateField.define<readonly Tooltip[]>({
        create: (s) => this.tooltips(s),
        update: (t, tr) =>
          tr.docChanged || tr.selection || tr.effects.some((e) => e.is(setDraft) || e.is(formShown))
            ? this.tooltips(tr.state)
            : t,
        provide: (f) => showTooltip.computeN([f], (s) => s.field(f)),
      });
      exts.push(
        tooltipField,
        keymap.of([
          {
            key: "Mod-Alt-m",
            run: (view) => {
              if (view.state.selection.main.empty) return false;
              this.showForm();
              return true;
            },
          },
        ]),
      );
    }
    return exts;
  }

  private create = (): { dom: HTMLElement } => ({ dom: this.tooltipDOM });
  // The form is a tooltip of its own (a new one is placed anew: below).
  private formDOM = element("div", { className: "dk-comment-tip" });
  private createForm = (): { dom: HTMLElement } => ({ dom: this.formDOM });

  private tooltips(state: EditorState): readonly Tooltip[] {
    const sel = state.selection.main;
    if (this.card) return [];
    if (sel.empty) {
      if (this.openForm) {
        this.openForm = false;
        this.renderButton();
      }
      return [];
    }
    // The form opens below the selection, not over the text it is about.
    if (this.openForm) return [{ pos: sel.to, above: false, strictSide: true, arrow: false, create: this.createForm }];
    return [{ pos: sel.head, above: sel.head < sel.anchor, strictSide: false, arrow: false, create: this.create }];
  }

  private renderButton(): void {
    const b = element("button", {
      type: "button",
      className: "dk-comment-button button small",
      textContent: "Comment",
      title: "Start a thread on the selected text (Ctrl/Cmd+Alt+M)",
    });
    const s = element("button", {
      type: "button",
      className: "dk-suggest-button button small",
      textContent: "Suggest a change",
      title: "Propose a replacement for the selected text; the owner or an editor accepts or rejects it",
    });
    for (const el of [b, s]) el.addEventListener("mousedown", (e) => e.preventDefault()); // keep the selection
    b.addEventListener("click", () => this.showForm());
    s.addEventListener("click", () => this.showForm(true));
    this.tooltipDOM.replaceChildren(b, s);
  }

  /**
   * Opens the new-thread form: as a card in the margin beside the text
   * where there is one, else in the tooltip below the selection.
   */
  showForm(suggest = false): void {
    const view = this.host.binding.view;
    const sel = view.state.selection.main;
    if (sel.empty) return;
    const selected = view.state.sliceDoc(sel.from, sel.to);
    const section = document.getElementById("threads");
    if (this.host.inMargin() && section) {
      this.closeCard(false);
      const card = element("article", { className: "thread dk-draft dk-keep", id: "t-draft" });
      card.dataset.status = "open";
      card.setAttribute("aria-label", suggest ? "New suggested change" : "New comment");
      const quote = element("blockquote", { className: "quote", textContent: shortQuote(selected) });
      const { form, ta } = this.buildForm(() => this.closeCard(true), suggest ? selected : null);
      card.append(quote, form);
      const heading = section.querySelector(":scope > h2");
      if (heading) heading.after(card);
      else section.prepend(card);
      this.card = card;
      view.dispatch({ effects: setDraft.of({ from: sel.from, to: sel.to }) });
      activateThread("draft", false);
      ta.focus({ preventScroll: true });
      return;
    }
    this.openForm = true;
    const { form, ta } = this.buildForm(
      () => {
        this.openForm = false;
        this.renderButton();
        view.focus();
      },
      suggest ? selected : null,
    );
    this.formDOM.replaceChildren(form);
    view.dispatch({ effects: formShown.of(null) }); // in place of the button
    ta.focus();
  }

  /**
   * The new-thread form; close takes it away. With the selected text
   * (original not null) it is the form of a suggested change: the
   * replacement, starting as the original, and an optional comment.
   */
  private buildForm(close: () => void, original: string | null): { form: HTMLFormElement; ta: HTMLTextAreaElement } {
    const form = element("form", { className: "dk-comment-form" });
    const suggest = original !== null;
    const ta = suggest
      ? element("textarea", { name: "replacement", rows: 3, value: original, placeholder: "Replacement (empty to delete the text)" })
      : element("textarea", { name: "body", rows: 3, required: true, placeholder: "Comment…" });
    ta.setAttribute("aria-label", suggest ? "Replace the selection with" : "Comment on the selection");
    const note = element("textarea", { name: "comment", rows: 2, placeholder: "Why? (optional)" });
    note.setAttribute("aria-label", "Comment on the suggested change (optional)");
    const err = element("p", { className: "dk-form-error", hidden: true });
    err.setAttribute("role", "alert");
    const send = element("button", { type: "submit", className: "button primary small", textContent: suggest ? "Suggest" : "Comment" });
    const cancel = element("button", { type: "button", className: "button small", textContent: "Cancel" });
    cancel.addEventListener("click", close);
    form.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        close();
      } else if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (suggest) {
        if (ta.value === original) {
          err.textContent = "Change the text to suggest something.";
          err.hidden = false;
          return;
        }
        void this.submit("suggestions", { replacement: ta.value, comment: note.value.trim() }, form, err);
      } else if (ta.value.trim()) {
        void this.submit("threads", { body: ta.value }, form, err);
      }
    });
    const buttons = element("div", { className: "dk-buttons" });
    buttons.append(send, cancel);
    if (suggest) {
      const label = element("p", { className: "dk-suggest-label", textContent: "Replace with:" });
      form.append(label, ta, note, err, buttons);
    }
    else form.append(ta, err, buttons);
    return { form, ta };
  }

  private cardText(): string {
    return this.card?.querySelector("textarea")?.value.trim() ?? "";
  }

  /** Takes the margin card away (and back to the text, if focus). */
  private closeCard(focus: boolean): void {
    if (!this.card) return;
    this.card.remove();
    this.card = null;
    const view = this.host.binding.view;
    view.dispatch({ effects: setDraft.of(null) });
    if (focus) view.focus();
    this.host.changed();
  }

  /** Sends a new thread or suggestion (what) on the selection or draft. */
  private async submit(what: "threads" | "suggestions", body: Record<string, string>, form: HTMLFormElement, err: HTMLElement): Promise<void> {
    const view = this.host.binding.view;
    const range = this.card ? draftRange(view.state) : view.state.selection.main;
    if (!range || range.from >= range.to) return;
    form.setAttribute("aria-busy", "true");
    for (const b of form.querySelectorAll("button")) b.disabled = true;
    err.hidden = true;
    try {
      const anchor = await this.host.binding.rangeWhenSaved(range.from, range.to);
      const res = await fetch(`/api/docs/${encodeURIComponent(this.host.docId)}/${what}`, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ anchor, ...body }),
      });
      const data = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(data?.error?.message || `The server answered ${res.status}.`);
      if (this.card) {
        this.closeCard(false);
      } else {
        this.openForm = false;
        this.renderButton();
      }
      view.dispatch({ selection: { anchor: view.state.selection.main.head } });
      await this.host.created(String(data.id));
    } catch (e) {
      err.textContent = (e as Error).message || "The comment could not be sent.";
      err.hidden = false;
      form.removeAttribute("aria-busy");
      for (const b of form.querySelectorAll("button")) b.disabled = false;
    }
  }

  /**
   * Reads the threads of the #threads section (positions at version v) and
   * marks them in the editor.
   */
  async load(section: Element | null, v: number): Promise<void> {
    if (!section) return;
    const items: { id: string; start: number; end: number; replacement?: string }[] = [];
    for (const el of section.querySelectorAll<HTMLElement>("article.thread[id^='t-']")) {
      const status = el.dataset.status || "open";
      const start = Number(el.dataset.start);
      const end = Number(el.dataset.end);
      if (status !== "open" || !Number.isFinite(start) || !Number.isFinite(end) || end <= start) continue;
      if (el.dataset.start === "" || el.dataset.end === "") continue;
      const replacement = el.dataset.suggestion === "open" ? (el.dataset.replacement ?? "") : undefined;
      items.push({ id: el.id.slice(2), start, end, replacement });
    }
    const cps: number[] = [];
    const right: boolean[] = [];
    for (const t of items) {
      cps.push(t.start, t.end);
      right.push(true, false);
    }
    const pos = items.length ? await this.host.binding.positionsAt(v, cps, right) : [];
    const ranges = items.map((t, i) => ({ id: t.id, from: pos[2 * i], to: pos[2 * i + 1], replacement: t.replacement }));
    this.host.binding.view.dispatch({ effects: setThreads.of(ranges) });
  }
}

/** The start of a quote, on one line. */
function shortQuote(text: string): string {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > 140 ? one.slice(0, 139).trimEnd() + "…" : one;
}

/** Marks the thread's article as the active one and brings it into view. */
export function activateThread(id: string, focus: boolean): void {
  for (const el of document.querySelectorAll("#threads article.thread.dk-active")) el.classList.remove("dk-active");
  const el = document.getElementById("t-" + id);
  if (!el) return;
  el.classList.add("dk-active");
  document.dispatchEvent(new Event("dk-activate"));
  el.scrollIntoView({ block: "nearest", behavior: "smooth" });
  if (focus) {
    if (!el.hasAttribute("tabindex")) el.tabIndex = -1;
    el.focus({ preventScroll: true });
  }
}

/** Editor-side theme of thread marks and the comment tooltip. */
export const threadTheme = EditorView.baseTheme({
  ".dk-thread": {
    backgroundColor: "rgba(255, 214, 0, 0.35)",
    borderBottom: "2px solid rgba(214, 160, 0, 0.9)",
    cursor: "pointer",
  },
  "&dark .dk-thread": { backgroundColor: "rgba(255, 214, 0, 0.22)" },
  // An open suggested change: the text it would replace, struck through.
  ".dk-thread.dk-suggestion": {
    backgroundColor: "rgba(211, 58, 44, 0.12)",
    borderBottom: "2px solid rgba(211, 58, 44, 0.8)",
    textDecoration: "line-through",
    textDecorationColor: "rgba(179, 38, 30, 0.9)",
  },
  ".cm-tooltip.dk-tip, .cm-tooltip:has(.dk-comment-tip)": {
    ...framed,
    padding: "0.3rem",
    boxShadow: "0 2px 8px rgba(0,0,0,0.15)",
  },
  ".dk-draft-mark": { backgroundColor: "rgba(255, 214, 0, 0.55)" },
});
