// Docket's page script: pages are rendered on the server and work without
// it; this script adds what needs a browser (live editing, search as you
// type) to the elements that ask for it with data attributes.

/** Runs fn once the document is parsed. */
function ready(fn: () => void): void {
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", fn, { once: true });
  } else {
    fn();
  }
}

ready(() => {
  document.documentElement.classList.add("js");
});
