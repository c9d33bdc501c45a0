// The document header kept current while the text changes live: the
// version and the time of the last change. (Others' threads, reviews
// and transitions refresh the header from the server's markup.)

import { soon } from "../dom";

/** The reader's month names, as the server writes them ("2 Jan 2006"). */
const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** LiveHeader updates .doc-version and .doc-updated in #doc-head. */
export class LiveHeader {
  // At most a few times a second: every keystroke is an op.
  private applySoon = soon(() => this.apply(), 250);
  private edited = 0;

  constructor(private version: () => number) {}

  /** Notes a change of the text (edited: now) and updates soon. */
  changed(edited: boolean): void {
    if (edited) this.edited = Date.now();
    this.applySoon();
  }

  private apply(): void {
    const v = this.version();
    const ver = document.querySelector<HTMLElement>("#doc-head .doc-version");
    if (ver && v > Number(ver.textContent)) ver.textContent = String(v);
    const upd = document.querySelector<HTMLElement>("#doc-head .doc-updated");
    const el = upd?.querySelector("time");
    if (!upd || !el || !this.edited || this.edited <= Date.parse(el.getAttribute("datetime") || "")) return;
    const at = new Date(this.edited);
    el.setAttribute("datetime", at.toISOString().replace(/\.\d+Z$/, "Z"));
    el.textContent = format(at, upd.dataset.zone);
  }
}

/** Formats at as "2 Jan 2006, 15:04" in the time zone zone. */
function format(at: Date, zone?: string): string {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat("en-GB", {
      timeZone: zone || undefined,
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    }).formatToParts(at);
  } catch {
    return at.toLocaleString();
  }
  const get = (t: string): string => parts.find((p) => p.type === t)?.value ?? "";
  return `${Number(get("day"))} ${months[Number(get("month")) - 1]} ${get("year")}, ${get("hour")}:${get("minute")}`;
}
