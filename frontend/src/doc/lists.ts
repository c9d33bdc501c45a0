// Enter in markdown lists: CodeMirror's insertNewlineContinueMarkup
// continues a list and, on an empty item, removes its marker. Removing
// the marker of the last item leaves the cursor on the line right after
// the list, where a paragraph would still belong to the item (a lazy
// continuation line): here the list also ends with a blank line, as a
// person pressing Enter twice expects.

import { ChangeSet } from "@codemirror/state";
import type { StateCommand, Transaction } from "@codemirror/state";
import { insertNewlineContinueMarkupCommand } from "@codemirror/lang-markdown";

const continueMarkup = insertNewlineContinueMarkupCommand({ nonTightLists: false });

/** A line holding nothing but a list marker (and a task box). */
const emptyItem = /^\s*(?:[-+*]|\d{1,9}[.)])(?:\s+\[[ xX]\])?\s*$/;

/** The Enter command of the editor. */
export const listEnter: StateCommand = ({ state, dispatch }) => {
  let tr: Transaction | null = null;
  if (!continueMarkup({ state, dispatch: (t) => (tr = t) }) || !tr) return false;
  const done = tr as Transaction;
  const before = state.selection.main;
  const head = done.newSelection.main.head;
  const line = done.newDoc.lineAt(head);
  const ended =
    state.selection.ranges.length === 1 &&
    before.empty &&
    emptyItem.test(state.doc.lineAt(before.head).text) &&
    line.length === 0 &&
    line.number > 1 &&
    /\S/.test(done.newDoc.line(line.number - 1).text);
  if (!ended) {
    dispatch(done);
    return true;
  }
  const blank = ChangeSet.of([{ from: head, insert: state.lineBreak }], done.newDoc.length);
  dispatch(
    state.update({
      changes: done.changes.compose(blank),
      selection: { anchor: head + state.lineBreak.length },
      scrollIntoView: true,
      userEvent: "input",
    }),
  );
  return true;
};
