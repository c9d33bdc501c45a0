// The document page, enhanced: a CodeMirror markdown editor in place of
// the no-JS edit form, bound to the live document over /api/live, with
// other people's cursors, who is here, the connection state, the rendered
// preview beside it or toggled, thread marks and the thread and review
// forms sent through the API.
//
// Page contract (rendered by the server): <main id="doc" data-doc-id
// data-version data-role data-user-id data-user-name>, the markdown in
// <textarea id="doc-source"> inside the edit form, the rendered HTML in
// <article id="doc-html">, threads in <section id="threads"> as
// <article class="thread" id="t-ID" data-start data-end data-status>, the
// review panel in <section id="review">.

import { Compartment, EditorState } from "@codemirror/state";
import type { Extension } from "@codemirror/state";
import { EditorView, drawSelection, keymap, placeholder } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { markdownKeymap, markdownLanguage } from "@codemirror/lang-markdown";
import { HighlightStyle, LanguageSupport, syntaxHighlighting } from "@codemirror/language";
import { tags } from "@lezer/highlight";
import { Binding, LOCAL } from "./binding";
import { listEnter } from "./lists";
import { LiveHeader } from "./header";
import { Live, liveURL } from "./live";
import { PresenceSync, cursorsExtension } from "./presence";
import type { Person } from "./presence";
import { Preview } from "./preview";
import { Tasks, findMark } from "./tasks";
import { Margin } from "./margin";
import { Threads, activateThread, draftRange, threadRanges, threadTheme } from "./threads";
import { countdowns, enhanceForms, fetchPanels, freshPage, postJSON, swapSections } from "./forms";
import { DocEvents, touchesPanels } from "./events";
import { mountStyles } from "./styles";
import { element } from "../dom";
import { cspNonce } from "../nonce";
import { colors } from "../theme";

type Mode = "edit" | "split" | "preview";
type Status = "connecting" | "saved" | "saving" | "offline" | "reconnecting" | "error";

// Markdown highlighting in the page's colours (app.css variables), so that
// it follows the light and dark schemes.
const markdownStyle = HighlightStyle.define([
  { tag: tags.heading, fontWeight: "bold" },
  { tag: tags.heading1, fontWeight: "bold", fontSize: "1.15em" },
  { tag: tags.strong, fontWeight: "bold" },
  { tag: tags.emphasis, fontStyle: "italic" },
  { tag: tags.strikethrough, textDecoration: "line-through" },
  { tag: [tags.link, tags.url], color: colors.accent },
  { tag: tags.monospace, color: colors.accent },
  { tag: [tags.processingInstruction, tags.meta, tags.contentSeparator], color: colors.muted },
  { tag: tags.quote, fontStyle: "italic", color: colors.muted },
]);

const editorTheme = EditorView.baseTheme({
  "&": { fontSize: "0.95rem" },
  ".cm-content": { padding: "0.75rem 0" },
  ".cm-line": { padding: "0 0.9rem" },
  ".cm-placeholder": { color: colors.muted },
  ".dk-cursor": {
    position: "relative",
    borderLeft: "2px solid var(--dk-color)",
    marginLeft: "-1px",
    marginRight: "-1px",
  },
  // A wider area to hover than the 2 px line.
  ".dk-cursor::before": { content: "''", position: "absolute", top: "0", bottom: "0", left: "-5px", width: "8px" },
  ".dk-cursor:hover .dk-cursor-name": { animation: "none", opacity: "1", visibility: "visible" },
  ".dk-cursor-name": {
    position: "absolute",
    bottom: "100%",
    left: "-2px",
    padding: "0 4px",
    borderRadius: "3px 3px 3px 0",
    background: "var(--dk-color)",
    color: colors.bg,
    fontFamily: "system-ui, sans-serif",
    fontSize: "0.7rem",
    lineHeight: "1.3",
    whiteSpace: "nowrap",
    zIndex: "5",
    pointerEvents: "none",
    animation: "dk-cursor-name 2.5s forwards",
  },
  ".dk-rsel": { backgroundColor: "color-mix(in srgb, var(--dk-color) 22%, transparent)" },
});

/** The task-list lines of a markdown text ("- [ ] ..."), as one string. */
function taskLines(text: string): string {
  return text
    .split("\n")
    .filter((l) => /^[\s>]*(?:[-*+]|\d{1,9}[.)])\s+\[[ xX]\]/.test(l))
    .join("\n");
}

/** Enhances the document page under main. */
export function start(main: HTMLElement): void {
  const docId = main.dataset.docId || "";
  if (!docId) return;
  mountStyles();
  const role = main.dataset.role || "viewer";
  const canEdit = role === "editor" || role === "admin";
  const canComment = canEdit || role === "commenter";
  const me = { user: main.dataset.userId || "", name: main.dataset.userName || "Me" };
  const pageVersion = Number(main.dataset.version || "0");

  const source = document.getElementById("doc-source") as HTMLTextAreaElement | null;
  const article = document.getElementById("doc-html");
  // The no-JS editor: the form, or the closed <details> it may sit in.
  const editForm = source?.closest("details") ?? source?.closest("form") ?? null;

  // The toolbar: view modes, people here now, connection state.
  const toolbar = element("div", { className: "dk-toolbar" });
  const modes = element("div", { className: "dk-modes" });
  modes.setAttribute("role", "group");
  modes.setAttribute("aria-label", "View");
  const modeButtons = new Map<Mode, HTMLButtonElement>();
  for (const [mode, label] of [
    ["edit", canEdit ? "Edit" : "Source"],
    ["split", "Side by side"],
    ["preview", "Preview"],
  ] as [Mode, string][]) {
    const b = element("button", { type: "button", textContent: label });
    b.dataset.mode = mode;
    b.addEventListener("click", () => setMode(mode, true));
    modeButtons.set(mode, b);
    modes.append(b);
  }
  const people = element("ul", { className: "dk-people" });
  people.setAttribute("aria-label", "People here now");
  let status = document.getElementById("live-status");
  if (!status) {
    status = element("span", { id: "live-status" });
  }
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  // The side column (decision, threads) can fold away to give the text
  // the page's width.
  const layout = main.querySelector<HTMLElement>(".doc-layout");
  const sideToggle = element("button", { type: "button", className: "dk-side-toggle" });
  function setSide(shown: boolean, remember: boolean): void {
    layout?.classList.toggle("dk-side-hidden", !shown);
    sideToggle.textContent = shown ? "Hide side panel" : "Show side panel";
    sideToggle.setAttribute("aria-expanded", String(shown));
    if (remember) {
      try {
        localStorage.setItem("docket.side", shown ? "shown" : "hidden");
      } catch {
        // private mode
      }
    }
  }
  sideToggle.addEventListener("click", () => {
    setSide(!!layout?.classList.contains("dk-side-hidden"), true);
    view.requestMeasure();
    margin.schedule();
  });
  if (layout?.querySelector(".doc-side")) {
    sideToggle.setAttribute("aria-controls", "doc-side");
    layout.querySelector(".doc-side")!.id ||= "doc-side";
    setSide(localStorage.getItem("docket.side") !== "hidden", false);
  } else {
    sideToggle.hidden = true;
  }
  toolbar.append(modes, people, status, sideToggle);

  const panes = element("div", { className: "dk-panes" });
  const editorPane = element("div", { className: "dk-editor-pane" });
  const previewPane = element("div", { className: "dk-preview-pane" });
  panes.append(editorPane, previewPane);

  const place = editForm ?? source ?? article;
  if (place) place.before(toolbar, panes);
  else main.append(toolbar, panes);
  if (editForm) editForm.hidden = true;
  else if (source) source.hidden = true;
  if (article) previewPane.append(article);

  // The live document and the editor bound to it.
  performance.mark("t-ui");
  const live = new Live(liveURL());
  const doc = live.connection.get("docs", docId);
  let lastError = "";
  const binding = new Binding(doc, docId, (err) => {
    lastError = err.message || "the server refused the change";
    updateStatus();
  });
  live.waitingForAck = () => !!doc.inflightOp;

  const editable = new Compartment();
  const lockedExt = (on: boolean): Extension => [EditorState.readOnly.of(!on), EditorView.editable.of(on)];
  const presence = new PresenceSync(live.connection, doc, binding, me);
  const preview = article ? new Preview(article, docId, () => mode !== "edit") : null;
  let highlightTimer: number | undefined;
  const threads = new Threads({
    binding,
    docId,
    canComment,
    inMargin: () => margin.on,
    created: async (id) => {
      await reloadSections(["threads", "review"]);
      activateThread(id, false);
    },
    changed: () => {
      margin.later();
      window.clearTimeout(highlightTimer);
      highlightTimer = window.setTimeout(() => {
        if (!preview) return;
        const state = binding.view.state;
        const ranges = threadRanges(state);
        preview.quotes = new Map(ranges.map((t) => [t.id, state.sliceDoc(t.from, t.to)]));
        preview.replacements = new Map(ranges.flatMap((t) => (t.replacement === undefined ? [] : [[t.id, t.replacement]])));
        preview.highlight();
      }, 200);
    },
  });

  performance.mark("t-before-view");
  const view = new EditorView({
    parent: editorPane,
    state: EditorState.create({
      doc: source?.value ?? "",
      extensions: [
        EditorView.cspNonce.of(cspNonce()),
        history(),
        drawSelection(),
        // GFM markdown without the HTML, CSS and JavaScript modes that
        // markdown() brings (they would double the bundle).
        new LanguageSupport(markdownLanguage),
        keymap.of([{ key: "Enter", run: listEnter }, ...markdownKeymap, ...defaultKeymap, ...historyKeymap]),
        syntaxHighlighting(markdownStyle),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({
          "aria-label": canEdit ? "Document source (markdown)" : "Document source (markdown, read only)",
        }),
        // Editors can type at once: what they type before the live
        // document has loaded is rebased onto it and sent then.
        editable.of(lockedExt(canEdit)),
        canEdit ? placeholder("Start writing: markdown, such as # A title, then paragraphs and - lists") : [],
        binding.extension(),
        presence.extension(),
        cursorsExtension(),
        threads.extension(),
        EditorView.updateListener.of((u) => {
          if (u.geometryChanged || u.viewportChanged) margin.schedule();
        }),
        threadTheme,
        editorTheme,
      ],
    }),
  });
  binding.view = view;
  performance.mark("docket-editor");
  if (canEdit) performance.mark("docket-editable");

  // Threads beside the text they anchor to (wide screens): in the
  // preview where it is shown and the quote was found, else in the editor.
  const margin = new Margin(main.querySelector<HTMLElement>(".doc-layout") ?? main, {
    anchorTop(id) {
      if (mode !== "edit" && preview) {
        const r = preview.found.get(id)?.getBoundingClientRect();
        if (r && (r.top || r.height)) return r.top;
        if (mode === "preview") return null;
      }
      const t = id === "draft" ? draftRange(view.state) : threadRanges(view.state).find((x) => x.id === id);
      if (!t) return null;
      return view.coordsAtPos(t.from, 1)?.top ?? view.documentTop + view.lineBlockAt(t.from).top;
    },
    band() {
      const el = mode === "edit" ? view.scrollDOM : mode === "split" ? previewPane : null;
      if (!el || el.scrollHeight <= el.clientHeight + 1) return null;
      const r = el.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom };
    },
  });
  if (preview) preview.onHighlight = () => margin.schedule();

  // Task checkboxes, for people who may edit.
  if (article && canEdit) {
    const note = element("p", { className: "dk-task-note", hidden: true });
    note.setAttribute("role", "alert");
    previewPane.prepend(note);
    let noteTimer: number | undefined;
    const tasks = new Tasks(article, {
      tick: async (line, done, shown) => {
        if (binding.live) {
          const at = findMark(view.state.doc.toJSON(), line, shown);
          if (typeof at === "string") {
            preview?.schedule(0);
            throw new Error(at);
          }
          const mark = done ? "x" : " ";
          if ((view.state.sliceDoc(at, at + 1) !== " ") === done) return;
          view.dispatch({ changes: { from: at, to: at + 1, insert: mark }, userEvent: "input.task" });
          return;
        }
        const version = typeof doc.version === "number" ? doc.version : pageVersion;
        await postJSON(`/api/docs/${encodeURIComponent(docId)}/tasks`, { line, done, version });
        preview?.schedule(0);
      },
      refused: (message) => {
        note.textContent = message;
        note.hidden = false;
        window.clearTimeout(noteTimer);
        noteTimer = window.setTimeout(() => (note.hidden = true), 8000);
      },
    });
    tasks.enable();
    if (preview) preview.prepare = (html) => tasks.enable(html);
  }
  margin.observe(panes);
  margin.observe(article);
  // The page's own scroll too: blocks of the preview are laid out as they
  // come into view (content-visibility), which moves the anchors below.
  for (const el of [view.scrollDOM, previewPane, window]) el.addEventListener("scroll", () => margin.schedule(), { passive: true });

  // View modes.
  // Side by side where both get a readable width; else the editor, with
  // the preview a click away.
  const wide = window.matchMedia("(min-width: 901px)").matches;
  const roomy = window.matchMedia("(min-width: 1500px)").matches;
  let mode: Mode = canEdit ? (roomy ? "split" : "edit") : "preview";
  const saved = localStorage.getItem("docket.mode") as Mode | null;
  if (saved && modeButtons.has(saved)) mode = saved;
  function setMode(m: Mode, remember: boolean): void {
    mode = m;
    panes.classList.remove("dk-mode-edit", "dk-mode-split", "dk-mode-preview");
    panes.classList.add("dk-mode-" + m);
    for (const [k, b] of modeButtons) b.setAttribute("aria-pressed", String(k === m));
    if (remember) {
      try {
        localStorage.setItem("docket.mode", m);
      } catch {
        // private mode
      }
    }
    if (m !== "preview") view.requestMeasure();
    if (m !== "edit") preview?.shown();
    margin.schedule();
  }
  setMode(mode, false);
  // A new, empty document: the cursor waits in the editor.
  if (canEdit && view.state.doc.length === 0) {
    if (mode === "preview") setMode(wide ? "split" : "edit", false);
    view.focus();
  }

  // Connection state. "Saved" means that the server has acknowledged
  // every local edit; until then "Saving…", or the edits waiting while
  // the connection is down.
  let shown: Status | "" = "";
  let savingSince = 0;
  let statusTimer: number | undefined;
  const pending = (): boolean => binding.waiting > 0 || doc.hasWritePending();
  function currentStatus(): Status {
    const link = live.state;
    if (link === "offline") return "offline";
    if (link === "reconnecting") return "reconnecting";
    if (link === "connecting" || !binding.live) return "connecting";
    if (lastError) return "error";
    return pending() ? "saving" : "saved";
  }
  function waitingText(): string {
    const n = binding.waiting;
    if (!n && !doc.hasWritePending()) return "";
    return n === 1 ? "1 change waiting" : n > 1 ? `${n} changes waiting` : "changes waiting";
  }
  function label(s: Status): string {
    const w = waitingText();
    switch (s) {
      case "connecting":
        return w ? `Connecting… ${w}` : "Connecting…";
      case "saved":
        return canEdit ? "Saved" : "Up to date";
      case "saving":
        return "Saving…";
      case "offline":
        return w ? `Offline, ${w}` : "Offline";
      case "reconnecting":
        return w ? `Reconnecting… ${w}` : "Reconnecting…";
      case "error":
        return "Not saved: " + lastError;
    }
  }
  function show(s: Status): void {
    const text = label(s);
    if (s === "saving" && shown !== "saving") savingSince = performance.now();
    if (shown === s && status!.textContent === text) return;
    shown = s;
    status!.dataset.state = s;
    status!.textContent = text;
  }
  function updateStatus(): void {
    window.clearTimeout(statusTimer);
    statusTimer = undefined;
    const s = currentStatus();
    // "Saving…" shows at once, and stays a moment once all is acked, so
    // that steady typing does not make it flicker with "Saved".
    if (s === "saved" && shown === "saving") {
      const left = savingSince + 600 - performance.now();
      if (left > 0) {
        statusTimer = window.setTimeout(updateStatus, left);
        return;
      }
    }
    show(s);
  }
  live.onChange(updateStatus);
  doc.on("op", (_op: unknown, source: unknown) => {
    header.changed(true);
    if (source === LOCAL) {
      lastError = "";
      updateStatus();
    } else {
      preview?.schedule(400);
    }
  });
  const header = new LiveHeader(() => doc.version ?? 0);
  doc.on("load", () => header.changed(false));
  doc.on("no write pending", () => {
    updateStatus();
    preview?.schedule(150);
  });
  doc.on("error", (err: Error) => {
    lastError = err.message;
    updateStatus();
  });
  updateStatus();

  // People here now.
  presence.onPeople((list: Person[]) => {
    people.replaceChildren(
      ...list.map((p) => {
        const li = element("li", {
          className: `dk-c${p.color}` + (p.me ? " dk-me" : ""),
          textContent: p.me ? `${p.name} (you)` : p.name,
        });
        li.title = li.textContent; // the whole name where a long one is cut
        return li;
      }),
    );
  });

  let firstLoad = true;
  binding.onLoad(() => {
    lastError = "";
    view.dispatch({ effects: editable.reconfigure(lockedExt(canEdit)) });
    main.dataset.live = "ready";
    if (firstLoad) {
      firstLoad = false;
      if (!canEdit) performance.mark("docket-editable");
      void threads.load(document.getElementById("threads"), pageVersion);
      followEvents();
    }
    presence.publishSoon();
    updateStatus();
  });
  doc.subscribe((err) => {
    if (err) {
      lastError = err.message;
      updateStatus();
    }
  });

  // Never leave with typed text unsent.
  window.addEventListener("beforeunload", (e) => {
    if (doc.hasWritePending() || binding.waiting > 0) e.preventDefault();
  });

  // What was seen live counts as seen: the last visit follows the
  // version on screen (10 s after it changes, and on leaving),
  // so that the next visit's "since your last visit" starts there. A
  // reload can be rendered before the leaving page's update arrives: the
  // version seen is also kept in the browser, and a notice about what
  // this window has just shown live is dropped.
  const seenKey = `docket.seen.${me.user}.${docId}`;
  const since = document.querySelector<HTMLElement>(".since-visit");
  if (since) {
    let seen: { v?: number; at?: number } = {};
    try {
      seen = JSON.parse(localStorage.getItem(seenKey) || "{}");
    } catch {
      // private mode, or not ours
    }
    if ((seen.v ?? -1) >= Number(since.dataset.to) && Date.now() - (seen.at ?? 0) < 60_000) since.remove();
  }
  let visited = pageVersion;
  let visitTimer: number | undefined;
  function sendVisit(leaving: boolean): void {
    window.clearTimeout(visitTimer);
    visitTimer = undefined;
    const v = typeof doc.version === "number" ? doc.version : 0;
    if (leaving) {
      try {
        localStorage.setItem(seenKey, JSON.stringify({ v, at: Date.now() }));
      } catch {
        // private mode
      }
    }
    if (v <= visited) return;
    visited = v;
    const url = `/api/docs/${encodeURIComponent(docId)}/visit`;
    const body = JSON.stringify({ version: v });
    if (leaving) {
      navigator.sendBeacon(url, new Blob([body], { type: "application/json" }));
      return;
    }
    fetch(url, { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body }).catch(() => {
      visited = Math.min(visited, v - 1); // try again with the next change
    });
  }
  doc.on("op", () => {
    if (visitTimer === undefined) visitTimer = window.setTimeout(() => sendVisit(false), 10_000);
  });
  window.addEventListener("pagehide", () => sendVisit(true));

  // Threads, the review panel and the action items: refreshed from the
  // server's markup (the panels fragment, or a fresh copy of the page),
  // one refresh at a time; asking while one runs makes one more.
  const panelsURL = main.dataset.panels;
  let refreshing: Promise<void> | null = null;
  const wanted = new Set<string>(); // the sections the next round refreshes
  async function reloadOnce(ids: string[]): Promise<void> {
    const fresh = panelsURL ? await fetchPanels(panelsURL) : await freshPage();
    if (!fresh) return;
    swapSections(fresh, panelsURL ? ["doc-head", ...ids] : ids);
    header.changed(false);
    margin.layout(); // at once, before the swapped cards are painted in the flow
    const root = (fresh.getElementById("doc-panels") ?? fresh.getElementById("doc")) as HTMLElement | null;
    const v = Number(root?.dataset.version ?? doc.version ?? 0);
    await threads.load(document.getElementById("threads"), v);
    margin.schedule();
    countdowns();
  }
  function reloadSections(ids: string[]): Promise<void> {
    for (const id of ids) wanted.add(id);
    if (refreshing) return refreshing;
    refreshing = (async () => {
      while (wanted.size) {
        const round = [...wanted];
        wanted.clear();
        await reloadOnce(round);
      }
    })().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }
  enhanceForms(main, docId, async () => {
    await reloadSections(["threads", "review"]);
  });

  // Action items follow the task-list lines of the text (the server
  // gathers them a moment after a change): when those lines changed, the
  // list is fetched again once the typing pauses.
  let tasks = taskLines(view.state.doc.toString());
  let tasksTimer: number | undefined;
  doc.on("op", () => {
    window.clearTimeout(tasksTimer);
    tasksTimer = window.setTimeout(() => {
      const now = taskLines(view.state.doc.toString());
      if (now === tasks) return;
      tasks = now;
      void reloadSections(["actions"]);
    }, 2500);
  });

  // What others do (threads, comments, reviews, transitions) arrives on
  // the document's event stream and refreshes the panels in place. It
  // starts once the text has loaded (thread marks need it), after the
  // newest event when the page was made, so nothing is missed meanwhile.
  function followEvents(): void {
    const seq = main.dataset.eventSeq;
    new DocEvents(
      docId,
      seq !== undefined && seq !== "" ? Number(seq) : null,
      (evs) => {
        if (touchesPanels(evs)) void reloadSections(["threads", "review"]);
      },
      () => {
        lastError = "this document was deleted or you lost access to it";
        updateStatus();
      },
      () => void reloadSections(["threads", "review"]),
    );
  }
  // Writing in a thread's box makes it the chosen one (which unfolds its
  // reply and resolution boxes); buttons do not, see app.css.
  main.addEventListener("focusin", (ev) => {
    const t = ev.target as HTMLElement;
    const art = t.closest<HTMLElement>("#threads article.thread");
    if (!art || art.classList.contains("dk-active") || !t.matches("textarea, input")) return;
    for (const el of document.querySelectorAll("#threads article.thread.dk-active")) el.classList.remove("dk-active");
    art.classList.add("dk-active");
    margin.schedule();
  });
  main.addEventListener("click", (ev) => {
    const t = ev.target as HTMLElement;
    const art = t.closest<HTMLElement>("#threads article.thread");
    if (!art || t.closest("a, button, input, textarea, select, label, form")) return;
    const id = art.id.slice(2);
    activateThread(id, false);
    const r = threadRanges(view.state).find((x) => x.id === id);
    if (r && mode !== "preview") {
      view.dispatch({ selection: { anchor: r.from, head: r.to }, scrollIntoView: true });
    }
  });
  countdowns();
}
