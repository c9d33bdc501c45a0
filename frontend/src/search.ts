// Search as you type in the header: the q field becomes an ARIA combobox
// whose listbox shows document titles from /api/search/suggest. Arrows
// move, Enter opens the highlighted title (or searches, when none is),
// Escape closes. Without JavaScript the field is a plain search form.

import { StyleModule } from "style-mod";
import { cspNonce } from "./nonce";
import { element } from "./dom";
import { chosen, colors, framed } from "./theme";

const styles = new StyleModule({
  ".dk-combo": { position: "relative" },
  ".dk-suggest": {
    position: "absolute",
    zIndex: "20",
    top: "100%",
    left: "0",
    maxWidth: "min(32rem, 90vw)",
    maxHeight: "60vh",
    overflowY: "auto",
    margin: "2px 0 0",
    padding: "0.25rem 0",
    listStyle: "none",
    background: colors.bg,
    color: colors.fg,
    ...framed,
    boxShadow: "0 4px 12px rgba(0, 0, 0, 0.15)",
  },
  ".dk-suggest [role=option]": {
    padding: "0.35rem 0.75rem",
    cursor: "pointer",
    whiteSpace: "nowrap",
    overflow: "hidden",
    textOverflow: "ellipsis",
  },
  ".dk-suggest [role=option]:hover": { background: `color-mix(in srgb, ${colors.accent} 10%, transparent)` },
  ".dk-suggest [role=option][aria-selected=true]": chosen,
});

interface Suggestion {
  docId: string;
  title: string;
  url: string;
}

let counter = 0;

/** Enhances the header search field, if the page has one. */
export function enhanceSearch(): void {
  const input =
    document.querySelector<HTMLInputElement>("header input[name='q']") ??
    document.querySelector<HTMLInputElement>("form[role='search'] input[name='q']");
  if (!input || input.dataset.suggest === "off") return;
  StyleModule.mount(document, styles, { nonce: cspNonce() });
  const form = input.form;
  const id = `dk-suggest-${++counter}`;
  const list = element("ul", { id, className: "dk-suggest" });
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Matching documents");
  list.hidden = true;
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", id);
  input.setAttribute("autocomplete", "off");
  (form ?? input.parentElement)?.classList.add("dk-combo");
  input.after(list);

  let items: Suggestion[] = [];
  let active = -1;
  let timer: number | undefined;
  let abort: AbortController | null = null;
  let lastQuery = "";

  const close = () => {
    list.hidden = true;
    list.querySelectorAll("[aria-selected=true]").forEach((el) => el.setAttribute("aria-selected", "false"));
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const setActive = (i: number) => {
    active = i;
    list.querySelectorAll<HTMLElement>("[role=option]").forEach((el, k) => {
      el.setAttribute("aria-selected", String(k === i));
    });
    if (i >= 0) {
      input.setAttribute("aria-activedescendant", `${id}-${i}`);
      document.getElementById(`${id}-${i}`)?.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  };
  const render = () => {
    list.replaceChildren(
      ...items.map((s, i) => {
        const li = element("li", { id: `${id}-${i}`, textContent: s.title || "Untitled" });
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.addEventListener("mousedown", (e) => e.preventDefault()); // keep focus in the field
        li.addEventListener("click", () => go(i));
        return li;
      }),
    );
    active = -1;
    if (items.length) {
      // Under the field, at least as wide (CSSOM, which the CSP allows).
      list.style.left = `${input.offsetLeft}px`;
      list.style.top = `${input.offsetTop + input.offsetHeight}px`;
      list.style.minWidth = `${input.offsetWidth}px`;
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    } else {
      close();
    }
  };
  let going = false;
  const go = (i: number) => {
    const s = items[i];
    if (!s) return;
    going = true;
    close();
    location.assign(s.url || `/d/${encodeURIComponent(s.docId)}`);
  };
  const fetchNow = async (q: string) => {
    abort?.abort();
    const ctl = new AbortController();
    abort = ctl;
    try {
      const res = await fetch(`/api/search/suggest?q=${encodeURIComponent(q)}&limit=8`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: ctl.signal,
      });
      if (!res.ok) return;
      const data = (await res.json()) as { suggestions?: Suggestion[] };
      if (ctl.signal.aborted || input.value.trim() !== q) return;
      items = data.suggestions ?? [];
      render();
    } catch {
      // aborted, or offline
    }
  };

  input.addEventListener("input", () => {
    const q = input.value.trim();
    window.clearTimeout(timer);
    if (q === lastQuery) return;
    lastQuery = q;
    if (!q) {
      abort?.abort();
      items = [];
      close();
      return;
    }
    timer = window.setTimeout(() => void fetchNow(q), 120);
  });
  input.addEventListener("keydown", (e) => {
    const open = !list.hidden && items.length > 0;
    switch (e.key) {
      case "ArrowDown":
        if (!open) {
          if (items.length) render();
          return;
        }
        e.preventDefault();
        setActive(active + 1 >= items.length ? 0 : active + 1);
        break;
      case "ArrowUp":
        if (!open) return;
        e.preventDefault();
        setActive(active <= 0 ? items.length - 1 : active - 1);
        break;
      case "Enter":
        if (open && active >= 0) {
          e.preventDefault();
          go(active);
        }
        break;
      case "Escape":
        if (open) {
          e.preventDefault();
          close();
        }
        break;
    }
  });
  // Enter on a highlighted title opens it: the form must not submit too
  // (a keypress can still reach it when keydown was cancelled).
  form?.addEventListener("submit", (e) => {
    if (going) e.preventDefault();
  });
  input.addEventListener("blur", () => close());
  input.addEventListener("focus", () => {
    if (items.length && input.value.trim() === lastQuery) render();
  });
}
