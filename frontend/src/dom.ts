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
