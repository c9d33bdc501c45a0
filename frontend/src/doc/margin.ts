// Threads in the margin: on a wide screen each open thread whose anchor is
// on screen (in the preview, or in the editor when the preview is hidden)
// sits beside its text, like margin comments. The cards stay in the
// server's order in the DOM (so the tab order is the threads' order); only
// their top moves, set from script (CSSOM, which the CSP allows). Cards
// never overlap: the active one gets its exact place and the others are
// pushed up (not above the list) or down around it. Threads without an
// anchor on screen (outdated, resolved, about the whole document) follow
// in the list below. On a narrow screen (one column) nothing moves.

const GAP = 8; // px between cards

/** What the margin needs from the page. */
export interface MarginHost {
  /** The client y of a thread's anchor in the view shown, or null. */
  anchorTop(id: string): number | null;
  /** The visible band (client y) of the inner scroller of the view shown, if it scrolls. */
  band(): { top: number; bottom: number } | null;
}

/** Margin lays out #threads beside the text. */
export class Margin {
  private frame = 0;
  private timer: number | undefined;
  private wide: MediaQueryList;
  private resize: ResizeObserver | null = null;
  private observed = new Set<Element>();
  private marker: Comment | null = null;

  constructor(
    private layoutRoot: HTMLElement, // carries dk-margin while on
    private host: MarginHost,
  ) {
    this.wide = window.matchMedia("(min-width: 1101px)");
    this.wide.addEventListener("change", () => this.schedule());
    window.addEventListener("resize", () => this.schedule());
    document.addEventListener("dk-activate", () => this.schedule());
    if (typeof ResizeObserver === "function") this.resize = new ResizeObserver(() => this.schedule());
  }

  /** Whether the cards sit beside the text now. */
  get on(): boolean {
    return this.layoutRoot.classList.contains("dk-margin");
  }

  /** Watches an element whose size moves anchors (the panes, the text). */
  observe(el: Element | null): void {
    if (el && this.resize && !this.observed.has(el)) {
      this.observed.add(el);
      this.resize.observe(el);
    }
  }

  /** Lays out in the next frame. */
  schedule(): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.layout());
  }

  /** Lays out after a quiet moment (edits). */
  later(delay = 120): void {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.schedule(), delay);
  }

  /** Lays out now. */
  layout(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    const section = document.getElementById("threads");
    if (!section) return;
    const cards = [...section.querySelectorAll<HTMLElement>(":scope > article.thread[id^='t-']")];
    // Only beside the text: the page's side column of a two-column layout.
    const side = section.parentElement;
    const on = this.wide.matches && !!side?.classList.contains("doc-side") && side.getClientRects().length > 0;
    this.placeSection(section, on);
    const heading = section.querySelector<HTMLElement>(":scope > h2");
    if (!on) {
      this.layoutRoot.classList.remove("dk-margin");
      for (const c of cards) this.unplace(c);
      if (heading) heading.style.marginBottom = "";
      return;
    }
    this.layoutRoot.classList.add("dk-margin");

    // Read: where each open thread's anchor is.
    const placed: { el: HTMLElement; want: number }[] = [];
    for (const c of cards) {
      const y = (c.dataset.status || "open") === "open" ? this.host.anchorTop(c.id.slice(2)) : null;
      if (y == null) this.unplace(c);
      else placed.push({ el: c, want: y });
    }
    // Write: the placed ones leave the flow (their width is the column's).
    for (const p of placed) p.el.classList.add("dk-placed");
    for (const el of this.observed) {
      if (!el.isConnected) {
        this.resize?.unobserve(el);
        this.observed.delete(el);
      }
    }
    for (const c of cards) this.observe(c);
    const rect = section.getBoundingClientRect();
    const base = rect.top + section.clientTop;
    const first = heading ? heading.getBoundingClientRect().bottom - base + GAP : GAP;
    const band = this.host.band();
    const lo = band ? Math.max(first, band.top - base) : first;
    const hi = band ? band.bottom - base : Infinity;
    const items = placed
      .map((p) => ({ el: p.el, want: Math.min(Math.max(p.want - base, lo), Math.max(lo, hi)), h: p.el.offsetHeight, top: 0 }))
      .sort((a, b) => a.want - b.want);
    for (const it of items) it.want = Math.max(it.want, first);

    // The active card where it wants to be, the others around it.
    let k = items.findIndex((it) => it.el.classList.contains("dk-active"));
    if (k < 0) k = 0;
    if (items.length) items[k].top = items[k].want;
    for (let i = k + 1; i < items.length; i++) items[i].top = Math.max(items[i].want, items[i - 1].top + items[i - 1].h + GAP);
    for (let i = k - 1; i >= 0; i--) items[i].top = Math.min(items[i].want, items[i + 1].top - items[i].h - GAP);
    // Nothing above the list: push down from the top where needed.
    let floor = first;
    for (const it of items) {
      it.top = Math.max(it.top, floor);
      floor = it.top + it.h + GAP;
    }
    for (const it of items) it.el.style.top = Math.round(it.top) + "px";
    // The list below the placed cards starts after the last of them.
    if (heading) {
      const end = items.length ? floor - first : 0;
      heading.style.marginBottom = end ? `calc(${Math.round(end)}px + 0.5rem)` : "";
    }
  }

  private unplace(c: HTMLElement): void {
    c.classList.remove("dk-placed");
    c.style.top = "";
  }

  /**
   * Puts #threads first in the side column while in the margin (so that
   * cards can sit beside the first lines), back in its place otherwise.
   */
  private placeSection(section: HTMLElement, on: boolean): void {
    const side = section.parentElement;
    if (!side) return;
    if (on && side.firstElementChild !== section) {
      if (!this.marker) {
        this.marker = document.createComment("threads");
        section.before(this.marker);
      }
      side.prepend(section);
    } else if (!on && this.marker) {
      this.marker.replaceWith(section);
      this.marker = null;
    }
  }
}
