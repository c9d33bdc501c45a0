// What the styles the scripts mount share: the page's colour variables
// from app.css, with their light values as fallbacks, and the looks used
// in more than one place.

/** The colour variables of app.css, with fallbacks. */
export const colors = {
  fg: "var(--fg, #1d1f21)",
  bg: "var(--bg, #fff)",
  muted: "var(--muted, #5f6368)",
  accent: "var(--accent, #2156c9)",
  border: "var(--border, #d9dce1)",
  mark: "var(--mark, #fff3a3)",
  danger: "var(--danger, #b3261e)",
  ok: "var(--ok, #17703a)",
  diffAdd: "var(--diff-add, #e3f6e8)",
  diffDel: "var(--diff-del, #fde7e5)",
  shadow: "var(--shadow, 0 6px 24px rgba(15, 23, 42, 0.12))",
};

/** A thin border in the page's border colour, with rounded corners. */
export const framed = { border: `1px solid ${colors.border}`, borderRadius: "6px" };

/** The look of the chosen one of a set (a pressed mode, a selected option). */
export const chosen = { background: colors.accent, color: colors.bg };

