/** Escaping for text that came from scenarios, traces or plugins. */

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or attribute value (quoted with " or ') for HTML. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => HTML[c]!);
}

/**
 * JSON that is safe inside a `<script>` element: `<`, `>`, `&` and U+2028/U+2029 become `\uXXXX`
 * escapes (same value once parsed), so no `</script>` or `<!--` can appear in the text.
 */
export function jsonForScript(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError('jsonForScript: value is not JSON-serialisable');
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Third-party script text for an inline `<script>`: `</script` is written `<\/script` (same meaning in
 * JavaScript strings and regular expressions); a `<!--` would change how the HTML parser reads the
 * element, so it is refused rather than patched.
 */
export function scriptText(js: string): string {
  if (js.includes('<!--')) throw new Error('inline script contains "<!--"');
  return js.replace(/<\/(script)/gi, '<\\/$1');
}
