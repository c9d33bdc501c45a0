// Tickable task lists: the checkboxes of the rendered document
// (li.task-list-item[data-task-line] > input[type=checkbox], disabled as
// the server renders them) become clickable for people who may edit. A
// click ticks or unticks that line of the source: through the live
// document when it is open (one local edit, sent like a keystroke, so it
// lands at the line's place while others type), else through
// POST /api/docs/:id/tasks.

import { foldSource } from "./preview";

/** What Tasks needs from the page. */
export interface TaskHost {
  /**
   * Ticks the task at the 1-based source line, whose rendered text is
   * shown; throws with a message.
   */
  tick(line: number, done: boolean, shown: string): Promise<void>;
  /** Tells the person why a tick did not happen. */
  refused(message: string): void;
}

/** The pattern of a task line; group 1 is all before the mark. */
export const taskLine = /^([ \t]*(?:>[ \t]*)*(?:[-+*]|\d{1,9}[.)])[ \t]{1,4}\[)([ xX])\](?=$|[ \t\r])/;

/** Tasks makes the checkboxes of an article clickable. */
export class Tasks {
  constructor(
    private article: HTMLElement,
    private host: TaskHost,
  ) {
    article.addEventListener("change", (e) => {
      const input = e.target as HTMLInputElement;
      const li = input.closest<HTMLElement>("li[data-task-line]");
      if (input.type !== "checkbox" || !li) return;
      void this.toggle(input, Number(li.dataset.taskLine), input.checked, ownText(li));
    });
  }

  /** Enables the checkboxes under root (by default the article's). */
  enable(root: ParentNode = this.article): void {
    const boxes = "li[data-task-line] > input[type=checkbox], li[data-task-line] > p:first-child > input[type=checkbox]";
    for (const input of root.querySelectorAll<HTMLInputElement>(boxes)) {
      input.disabled = false;
      input.title = input.checked ? "Done: click to reopen" : "Click to mark done";
    }
  }

  private async toggle(input: HTMLInputElement, line: number, done: boolean, shown: string): Promise<void> {
    input.disabled = true; // until the tick is through
    try {
      await this.host.tick(line, done, shown);
    } catch (err) {
      input.checked = !done;
      this.host.refused((err as Error).message);
    } finally {
      input.disabled = false;
    }
  }
}

/**
 * Where the mark of the task at line sits in text (a UTF-16 offset), or
 * an error message: the line must be a task line, and its text what the
 * rendered item shows (the rendering may lag behind the live text).
 */
export function findMark(lines: string[], line: number, shown: string): number | string {
  if (line < 1 || line > lines.length) return `Line ${line} is past the end of the document.`;
  const m = taskLine.exec(lines[line - 1]);
  const rest = m ? lines[line - 1].slice(m[0].length) : "";
  if (!m || !foldSource(shown).startsWith(foldSource(rest))) {
    return "This task moved while the page was catching up: try again in a moment.";
  }
  let off = 0;
  for (let i = 0; i < line - 1; i++) off += lines[i].length + 1;
  return off + m[1].length;
}

/** The text of a task item without its nested lists. */
function ownText(li: HTMLElement): string {
  let out = "";
  for (const n of li.childNodes) {
    if (n instanceof HTMLElement && (n.tagName === "UL" || n.tagName === "OL")) continue;
    out += n.textContent ?? "";
  }
  return out;
}
