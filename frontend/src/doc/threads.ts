// Threads in the editor and the preview: the page lists threads as
// <article class="thread" id="t-ID" data-start data-end data-status> in
// #threads, with positions in code points at the page's data-version.
// They become editor marks that CodeMirror maps through every edit, local
// or remote, with exclusive ends (text typed exactly at either end stays
// outside, as the server moves anchors), and CSS highlights in the
// preview. Selecting text offers a button that starts a thread there.

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
        ranges.push(
          Decoration.mark({
            class: "dk-thread",
            attributes: { "data-thread": t.id },
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

/** The current thread ranges of an editor state. */
export function threadRanges(state: EditorState): ThreadRange[] {
  const out: ThreadRange[] = [];
  state.field(threadField).between(0, state.doc.length, (from, to, value) => {
    const id = (value.spec.attributes as Record<string, string> | undefined)?.["data-thread"];
    if (id) out.push({ id, from, to });
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
}

/** Threads wires thread marks, the comment button and the panel. */
export class Threads {
  private tooltipDOM: HTMLElement;
  private openForm = false;

  constructor(private host: ThreadHost) {
    this.tooltipDOM = element("div", { className: "dk-comment-tip" });
    this.renderButton();
  }

  /** The editor extensions: marks, the comment tooltip, Mod-Alt-m. */
  extension(): Extension {
    const exts: Extension[] = [
      threadField,
      EditorView.updateListener.of((u) => {
        if (u.docChanged || u.transactions.some((tr) => tr.effects.some((e) => e.is(setThreads)))) {
          this.host.changed();
        }
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
        update: (t, tr) => (tr.docChanged || tr.selection ? this.tooltips(tr.state) : t),
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

  private tooltips(state: EditorState): readonly Tooltip[] {
    const sel = state.selection.main;
    if (sel.empty) {
      if (this.openForm) {
        this.openForm = false;
        this.renderButton();
      }
      return [];
    }
    return [{ pos: sel.head, above: sel.head < sel.anchor, strictSide: false, arrow: false, create: this.create }];
  }

  private renderButton(): void {
    const b = element("button", {
      type: "button",
      className: "dk-comment-button",
      textContent: "Comment",
      title: "Start a thread on the selected text (Ctrl/Cmd+Alt+M)",
    });
    b.addEventListener("mousedown", (e) => e.preventDefault()); // keep the selection
    b.addEventListener("click", () => this.showForm());
    this.tooltipDOM.replaceChildren(b);
  }

  /** Opens the new-thread form in the tooltip. */
  showForm(): void {
    this.openForm = true;
    const form = element("form", { className: "dk-comment-form" });
    const label = element("label", { textContent: "Comment on the selection" });
    const ta = element("textarea", { name: "body", rows: 3, required: true });
    label.append(ta);
    const err = element("p", { className: "dk-form-error", hidden: true });
    err.setAttribute("role", "alert");
    const send = element("button", { type: "submit", textContent: "Comment" });
    const cancel = element("button", { type: "button", textContent: "Cancel" });
    const close = () => {
      this.openForm = false;
      this.renderButton();
      this.host.binding.view.focus();
    };
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
      void this.submit(ta.value, form, err);
    });
    const buttons = element("div", { className: "dk-buttons" });
    buttons.append(send, cancel);
    form.append(label, err, buttons);
    this.tooltipDOM.replaceChildren(form);
    ta.focus();
  }

  private async submit(body: string, form: HTMLFormElement, err: HTMLElement): Promise<void> {
    if (!body.trim()) return;
    const view = this.host.binding.view;
    const sel = view.state.selection.main;
    if (sel.empty) return;
    form.setAttribute("aria-busy", "true");
    for (const b of form.querySelectorAll("button")) b.disabled = true;
    err.hidden = true;
    try {
      const anchor = await this.host.binding.rangeWhenSaved(sel.from, sel.to);
      const res = await fetch(`/api/docs/${encodeURIComponent(this.host.docId)}/threads`, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ anchor, body }),
      });
      const data = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(data?.error?.message || `The server answered ${res.status}.`);
      this.openForm = false;
      this.renderButton();
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
    const items: { id: string; start: number; end: number }[] = [];
    for (const el of section.querySelectorAll<HTMLElement>("article.thread[id^='t-']")) {
      const status = el.dataset.status || "open";
      const start = Number(el.dataset.start);
      const end = Number(el.dataset.end);
      if (status !== "open" || !Number.isFinite(start) || !Number.isFinite(end) || end <= start) continue;
      if (el.dataset.start === "" || el.dataset.end === "") continue;
      items.push({ id: el.id.slice(2), start, end });
    }
    const cps: number[] = [];
    const right: boolean[] = [];
    for (const t of items) {
      cps.push(t.start, t.end);
      right.push(true, false);
    }
    const pos = items.length ? await this.host.binding.positionsAt(v, cps, right) : [];
    const ranges = items.map((t, i) => ({ id: t.id, from: pos[2 * i], to: pos[2 * i + 1] }));
    this.host.binding.view.dispatch({ effects: setThreads.of(ranges) });
  }
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
  ".cm-tooltip.dk-tip, .cm-tooltip:has(.dk-comment-tip)": {
    ...framed,
    padding: "0.3rem",
    boxShadow: "0 2px 8px rgba(0,0,0,0.15)",
  },
  ".dk-comment-button": { font: "inherit", fontSize: "0.85rem", padding: "0.2rem 0.6rem", cursor: "pointer" },
  ".dk-comment-form": { display: "grid", gap: "0.3rem", width: "18rem", fontSize: "0.85rem" },
  ".dk-comment-form label": { display: "grid", gap: "0.2rem" },
  ".dk-comment-form textarea": { font: "inherit", width: "100%", boxSizing: "border-box" },
  ".dk-buttons": { display: "flex", gap: "0.4rem" },
});
