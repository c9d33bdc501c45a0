// Docket's page script: pages are rendered on the server and work without
// it; this script adds what needs a browser (live editing, search as you
// type, the history slider) to the elements that ask for it. The document
// page's code (the editor and the live connection) is a separate chunk,
// loaded only there; so is the history page's slider.

import { enhanceSearch } from "./search";

/** Runs fn once the document is parsed. */
function ready(fn: () => void): void {
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", fn, { once: true });
  } else {
    fn();
  }
}

performance.mark("t-app-eval");
ready(() => {
  performance.mark("t-ready");
  document.documentElement.classList.add("js");
  enhanceSearch();
  const main = document.getElementById("doc");
  if (main?.dataset.docId) {
    import("./doc/page")
      .then((m) => { performance.mark("t-imported"); m.start(main); })
      .catch((err) => console.error("docket: the editor did not load", err));
  }
  const replay = document.getElementById("replay");
  if (replay?.dataset.docId) {
    import("./history")
      .then((m) => m.start(replay))
      .catch((err) => console.error("docket: the history slider did not load", err));
  }
});
