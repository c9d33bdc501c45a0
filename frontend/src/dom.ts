/**
 * element returns a new element of the given tag with props set on it,
 * such as { className, textContent, type }. Attributes such as role and
 * aria-* are set by the caller.
 */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
): HTMLElementTagNameMap[K] {
  return Object.assign(document.createElement(tag), props);
}

/**
 * Returns a function that runs fn once, ms after the first of the calls
 * made until then: a burst of calls (a keystroke each) costs one run.
 */
export function soon(fn: () => void, ms: number): () => void {
  let timer: number | undefined;
  return () => {
    if (timer !== undefined) return;
    timer = window.setTimeout(() => {
      timer = undefined;
      fn();
    }, ms);
  };
}
