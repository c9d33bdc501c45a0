/**
 * cspNonce is the response's Content-Security-Policy nonce, which the
 * server puts in <meta name="csp-nonce">: style elements made by the
 * script (style-mod mounts a <style> on a document; CodeMirror's themes)
 * need it. Nothing else inline is allowed.
 */
export function cspNonce(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content ?? "";
}
