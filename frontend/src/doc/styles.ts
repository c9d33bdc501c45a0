// Styles of what the page script adds (toolbar, panes, cursors, thread
// marks). They are mounted as constructed style sheets, which the strict
// CSP allows (it forbids inline <style> and style attributes), and use
// the page's colour variables from app.css with fallbacks.

import { StyleModule } from "style-mod";
import { cspNonce } from "../nonce";
import { chosen, colors, framed } from "../theme";

/** The colours of other people's cursors, by index. */
export const COLORS = ["#d33a2c", "#1f7a3a", "#2156c9", "#a23bb3", "#b35f00", "#0f7c86", "#c2185b", "#5b6b00"];
const DARK = ["#ff7a6e", "#5fd38a", "#7aa7ff", "#d58ae6", "#ffb060", "#4fd2dc", "#ff7fae", "#c6d660"];

/** colorIndex picks a stable colour for a user id. */
export function colorIndex(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) | 0;
  return Math.abs(h) % COLORS.length;
}

const colorRules: Record<string, Record<string, string>> = {};
const darkRules: Record<string, Record<string, string>> = {};
COLORS.forEach((c, i) => {
  colorRules[`.dk-c${i}`] = { "--dk-color": c };
  darkRules[`.dk-c${i}`] = { "--dk-color": DARK[i] };
});

const pageStyles = new StyleModule({
  ...colorRules,
  "@media (prefers-color-scheme: dark)": darkRules,
  ".dk-toolbar": {
    display: "flex",
    flexWrap: "wrap",
    alignItems: "center",
    gap: "0.5rem 1rem",
    padding: "0.4rem 0",
    fontSize: "0.875rem",
  },
  ".dk-modes": { ...framed, display: "inline-flex", overflow: "hidden" },
  ".dk-modes button": {
    font: "inherit",
    padding: "0.25rem 0.7rem",
    border: "0",
    background: "transparent",
    color: "inherit",
    cursor: "pointer",
  },
  ".dk-modes button + button": { borderLeft: framed.border },
  ".dk-modes button[aria-pressed=true]": chosen,
  ".dk-people": { display: "flex", flexWrap: "wrap", gap: "0.3rem", listStyle: "none", margin: "0", padding: "0", minWidth: "0", maxWidth: "100%" },
  ".dk-people li": {
    maxWidth: "min(16rem, 100%)",
    overflow: "hidden",
    textOverflow: "ellipsis",
    padding: "0.1rem 0.5rem",
    borderRadius: "999px",
    border: `1px solid var(--dk-color, ${colors.border})`,
    color: "var(--dk-color, inherit)",
    whiteSpace: "nowrap",
  },
  ".dk-people li.dk-me": { borderStyle: "dashed" },
  "#live-status": { marginLeft: "auto", color: colors.muted, whiteSpace: "nowrap" },
  ".dk-side-toggle": { ...framed, font: "inherit", padding: "0.25rem 0.7rem", background: "transparent", color: "inherit", cursor: "pointer" },
  "@media (min-width: 1101px)": {
    ".doc-layout.dk-side-hidden": { gridTemplateColumns: "minmax(0, 1fr)" },
    ".doc-layout.dk-side-hidden > .doc-side": { display: "none" },
  },
  // A readable line length where the editor is wide.
  ".dk-panes .cm-content": { maxWidth: "52rem" },
  "@media (max-width: 1100px)": { ".dk-side-toggle": { display: "none" } },
  "#live-status::before": {
    content: "''",
    display: "inline-block",
    width: "0.6em",
    height: "0.6em",
    borderRadius: "50%",
    marginRight: "0.4em",
    background: "#1f9d55",
  },
  "#live-status[data-state=saving]::before": { background: "#d9a400" },
  "#live-status[data-state=connecting]::before, #live-status[data-state=reconnecting]::before": { background: "#d9a400" },
  "#live-status[data-state=offline]::before, #live-status[data-state=error]::before": { background: "#d33a2c" },
  "#live-status[data-state=offline], #live-status[data-state=error]": { color: "var(--fg, inherit)", fontWeight: "600" },
  ".dk-panes": { display: "grid", gap: "1rem", gridTemplateColumns: "minmax(0, 1fr)", alignItems: "start" },
  ".dk-panes.dk-mode-split": { gridTemplateColumns: "minmax(0, 1fr) minmax(0, 1fr)" },
  ".dk-panes.dk-mode-edit .dk-preview-pane, .dk-panes.dk-mode-preview .dk-editor-pane": { display: "none" },
  ".dk-editor-pane .cm-editor": { ...framed, minHeight: "16rem", maxHeight: "80vh" },
  ".dk-editor-pane .cm-editor.cm-focused": { outline: `2px solid ${colors.accent}`, outlineOffset: "1px" },
  ".dk-editor-pane .cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", lineHeight: "1.5" },
  // break-word, not anywhere: "anywhere" lets table cells shrink to one
  // letter wide (tables scroll sideways instead; links still break).
  ".dk-preview-pane": { minWidth: "0", overflowWrap: "break-word" },
  ".dk-panes.dk-mode-split .dk-preview-pane": { maxHeight: "80vh", overflow: "auto" },
  "@media (max-width: 900px)": {
    ".dk-panes.dk-mode-split": { gridTemplateColumns: "minmax(0, 1fr)" },
    // Stacked, the preview follows the editor in the page's own scroll.
    ".dk-panes.dk-mode-split .dk-preview-pane": { maxHeight: "none", overflow: "visible" },
  },
  // A long document's blocks out of sight are neither laid out nor
  // painted, so that refreshing the preview stays cheap.
  ".dk-preview-pane > article > *": { contentVisibility: "auto", containIntrinsicSize: "auto 3em" },
  "::highlight(dk-thread)": { backgroundColor: colors.mark },
  // A suggested change in the preview: the text it replaces struck
  // through, the replacement shown after it.
  "::highlight(dk-suggest)": { backgroundColor: colors.diffDel, color: colors.danger, textDecoration: "line-through" },
  ".dk-suggest-label": { margin: "0 0 0.2rem", fontSize: "0.8rem", fontWeight: "600" },
  ".dk-sugg-ins": { backgroundColor: colors.diffAdd, color: colors.ok, textDecoration: "none", marginLeft: "0.15em" },
  // Threads in the margin (doc/margin.ts): placed cards leave the flow.
  // Beside the text the cards float in the margin, without a panel
  // around them (its frame made a large gap above the first card).
  ".dk-margin #threads": { position: "relative", border: "0", background: "transparent", boxShadow: "none", paddingTop: "0" },
  ".dk-margin #threads > .thread.dk-placed": {
    position: "absolute",
    left: "0.6rem",
    right: "0.6rem",
    margin: "0",
    padding: "0.55rem 0.7rem 0.3rem",
    ...framed,
    background: colors.bg,
    boxShadow: "0 1px 4px rgba(15, 23, 42, 0.08)",
  },
  ".dk-margin #threads > .thread.dk-placed.dk-active": { zIndex: "1", boxShadow: colors.shadow },
  ".thread.dk-active": { outline: `2px solid ${colors.accent}`, outlineOffset: "2px" },
  // A cursor's name shows for a moment after each move, then fades.
  "@keyframes dk-cursor-name": {
    "0%, 70%": { opacity: "1", visibility: "visible" },
    "100%": { opacity: "0", visibility: "hidden" },
  },
  ".dk-comment-form": { display: "grid", gap: "0.4rem", fontSize: "0.9rem" },
  ".cm-tooltip .dk-comment-form": { width: "18rem" },
  ".dk-comment-form textarea": { width: "100%", boxSizing: "border-box", fontWeight: "normal" },
  ".dk-buttons": { display: "flex", gap: "0.4rem" },
  ".thread.dk-draft .quote": { margin: "0 0 0.4rem" },
  ".thread.dk-draft": { paddingBottom: "0.55rem" },
  ".dk-form-error": { color: "#d33a2c", margin: "0.3rem 0" },
  ".dk-task-note": { ...framed, background: colors.mark, color: colors.fg, padding: "0.4rem 0.7rem", margin: "0 0 0.6rem" },
  ".markdown .task-list-item input:not([disabled])": { cursor: "pointer" },
  ".dk-countdown": { marginLeft: "0.4em", color: colors.muted },
  ".dk-countdown.dk-overdue": { color: "#d33a2c", fontWeight: "600" },
});

let mounted = false;

/** Mounts the page styles once. */
export function mountStyles(): void {
  if (mounted) return;
  mounted = true;
  StyleModule.mount(document, pageStyles, { nonce: cspNonce() });
}
