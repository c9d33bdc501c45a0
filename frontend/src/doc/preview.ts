// The rendered preview: the page's #doc-html, refreshed from
// /api/docs/:id/html (sanitised on the server) a moment after the text
// changes, with open threads highlighted through the CSS Custom Highlight
// API (no change to the rendered DOM). An open suggested change is
// highlighted struck through, and its replacement is shown after it in an
// <ins class="dk-sugg-ins"> that the next highlight takes out again.

/** Preview keeps #doc-html current. */
export class Preview {
  private timer: number | undefined;
  private abort: AbortController | null = null;
  private etag = "";
  private stale = false;
  private since = 0; // when the pending refresh was first asked for
  /** The thread quotes to highlight, by thread id. */
  quotes = new Map<string, string>();
  /** The replacements of the open suggested changes, by thread id. */
  replacements = new Map<string, string>();
  /** Where each quote was found in the rendered text, by thread id. */
  found = new Map<string, Range>();
  /** Called after the highlights were placed again. */
  onHighlight: () => void = () => {};
  /**
   * Adjusts new HTML before it replaces the article's (so that blocks
   * which did not change compare equal to what the page made of them).
   */
  prepare: (html: DocumentFragment) => void = () => {};

  constructor(
    readonly article: HTMLElement,
    private docId: string,
    private visible: () => boolean,
  ) {}

  /**
   * Refreshes the preview after a quiet moment, and at least every
   * maxWait while the text keeps changing.
   */
  schedule(delay = 250, maxWait = 2000): void {
    this.stale = true;
    if (!this.visible()) return;
    const now = Date.now();
    if (this.timer !== undefined && now - this.since >= maxWait - delay) return; // due soon anyway
    if (this.timer === undefined) this.since = now;
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, delay);
  }

  /** Refreshes now if changes arrived while the preview was hidden. */
  shown(): void {
    if (this.stale) this.schedule(0);
    this.highlight();
  }

  private async refresh(): Promise<void> {
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    try {
      const headers: Record<string, string> = { Accept: "text/html" };
      if (this.etag) headers["If-None-Match"] = this.etag;
      const res = await fetch(`/api/docs/${encodeURIComponent(this.docId)}/html`, {
        credentials: "same-origin",
        cache: "no-store",
        headers,
        signal: abort.signal,
      });
      if (res.status === 304) {
        this.stale = false;
        return;
      }
      if (!res.ok) return;
      const html = await res.text();
      if (abort.signal.aborted) return;
      // Applied when the page is idle, so that it does not hold up typing.
      await idle();
      if (abort.signal.aborted) return;
      this.etag = res.headers.get("ETag") || "";
      this.stale = false;
      this.apply(html);
      this.highlight();
    } catch {
      // aborted or offline: the next change tries again
    } finally {
      if (this.abort === abort) this.abort = null;
    }
  }

  /**
   * Puts new HTML (sanitised by the server) in the article, replacing only
   * the top-level blocks that changed: an edit in a long document touches
   * one paragraph, and the rest keeps its layout.
   */
  private apply(html: string): void {
    const tpl = document.createElement("template");
    tpl.innerHTML = html;
    this.prepare(tpl.content);
    const next = [...tpl.content.childNodes];
    const cur = [...this.article.childNodes];
    let start = 0;
    while (start < cur.length && start < next.length && cur[start].isEqualNode(next[start])) start++;
    let endC = cur.length;
    let endN = next.length;
    while (endC > start && endN > start && cur[endC - 1].isEqualNode(next[endN - 1])) {
      endC--;
      endN--;
    }
    const before = cur[endC] ?? null;
    for (let i = start; i < endC; i++) cur[i].remove();
    const frag = document.createDocumentFragment();
    for (let i = start; i < endN; i++) frag.append(next[i]);
    this.article.insertBefore(frag, before);
  }

  /** Highlights the quotes of open threads in the rendered text. */
  highlight(): void {
    for (const el of [...this.article.querySelectorAll(".dk-sugg-ins")]) {
      const parent = el.parentNode;
      el.remove();
      parent?.normalize(); // the text node split for it is one again
    }
    this.found.clear();
    if (this.quotes.size) {
      const index = textIndex(this.article);
      for (const [id, quote] of this.quotes) {
        const r = findText(index, quote);
        if (r) this.found.set(id, r);
      }
    }
    const registry = (globalThis.CSS as { highlights?: HighlightRegistry } | undefined)?.highlights;
    const plain: Range[] = [];
    const suggested: Range[] = [];
    for (const [id, r] of this.found) (this.replacements.has(id) ? suggested : plain).push(r);
    if (registry && typeof Highlight !== "undefined") {
      for (const [name, ranges] of [["dk-thread", plain], ["dk-suggest", suggested]] as const) {
        if (ranges.length) registry.set(name, new Highlight(...ranges));
        else registry.delete(name);
      }
    }
    // The replacements, after the text they replace; the found ranges are
    // live and keep their place when a text node is split.
    for (const [id, r] of this.found) {
      const text = this.replacements.get(id);
      if (!text) continue;
      const ins = document.createElement("ins");
      ins.className = "dk-sugg-ins";
      ins.textContent = text;
      ins.title = "Suggested replacement";
      const at = r.cloneRange();
      at.collapse(false);
      at.insertNode(ins);
    }
    this.onHighlight();
  }
}

/** Resolves when the browser is idle (or after a second at the latest). */
function idle(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof requestIdleCallback === "function") requestIdleCallback(() => resolve(), { timeout: 1000 });
    else setTimeout(resolve, 0);
  });
}

// Finding a thread's quote (markdown source) in the rendered text: both
// are folded the same way, dropping white space and the characters that
// markdown uses as syntax (emphasis, code, headings, quotes, tables,
// escapes, brackets), so "**bold** word" in the source finds "bold word"
// in the preview. The source is first rid of what renders as no text at
// all (link targets, list and task markers, fences, rule lines); the
// rendered side keeps, for every folded character, where it is in which
// text node, so a match maps back to a DOM range.

/** Whether a character is left out of the folded text on both sides. */
export function ignorable(ch: string): boolean {
  return /[\s*_`~#>|\\[\]<]/.test(ch);
}

const entities: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", nbsp: " " };

/** The characters of markdown source that a reader sees, folded. */
export function foldSource(md: string): string {
  const text = md
    .replace(/^[ \t]*(```|~~~).*$/gm, "") // code fences and their language
    .replace(/^[ \t]*(?=[-=*_:| \t]*[-=*_])[-=*_:| \t]+$/gm, "") // rules, setext underlines, table separators
    .replace(/^[ \t]*(?:>[ \t]*)*(?:[-+*]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?/gm, "") // list and task markers
    .replace(/!\[[^\]]*\]\([^)]*\)/g, "") // images (their alt text is no text node)
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1") // links: their text
    .replace(/\]\([^)\s]*\)?/g, "") // the target of a link cut by the quote
    .replace(/\[\^[^\]]*\]/g, "") // footnote references
    .replace(/\]\[[^\]]*\]/g, "") // reference links
    .replace(/<((?:https?|mailto):[^>\s]*)>/g, "$1") // autolinks
    .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, e: string) => entities[e]);
  let out = "";
  for (const ch of text) if (!ignorable(ch)) out += ch;
  return out;
}

interface TextIndex {
  text: string; // the element's text, folded
  nodes: Text[];
  starts: number[]; // start of each node in text
  offsets: number[][]; // for each node, the offset in the node of each char it kept
}

function textIndex(root: HTMLElement): TextIndex {
  const idx: TextIndex = { text: "", nodes: [], starts: [], offsets: [] };
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const node = n as Text;
    // Footnote references are dropped from the source too.
    if (node.parentElement?.closest('sup a[href^="#fn"]')) continue;
    const data = node.data;
    const offs: number[] = [];
    let kept = "";
    for (let i = 0; i < data.length; i++) {
      const ch = data[i];
      if (ignorable(ch)) continue;
      kept += ch;
      offs.push(i);
    }
    if (!kept) continue;
    idx.nodes.push(node);
    idx.starts.push(idx.text.length);
    idx.offsets.push(offs);
    idx.text += kept;
  }
  return idx;
}

function findText(idx: TextIndex, quote: string): Range | null {
  const needle = foldSource(quote);
  if (needle.length < 2) return null;
  const at = idx.text.indexOf(needle);
  if (at < 0) return null;
  const start = locate(idx, at);
  const end = locate(idx, at + needle.length - 1);
  if (!start || !end) return null;
  const r = document.createRange();
  r.setStart(start.node, start.offset);
  r.setEnd(end.node, end.offset + 1);
  return r;
}

function locate(idx: TextIndex, pos: number): { node: Text; offset: number } | null {
  let lo = 0;
  let hi = idx.starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (idx.starts[mid] <= pos) lo = mid;
    else hi = mid - 1;
  }
  const offs = idx.offsets[lo];
  const k = pos - idx.starts[lo];
  if (!offs || k < 0 || k >= offs.length) return null;
  return { node: idx.nodes[lo], offset: offs[k] };
}
