const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes a string for safe use in HTML text content and quoted attribute
 * values. Log-derived strings (user agents, URLs, function names) are
 * attacker-controlled and must always pass through here.
 */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] ?? ch);
}

/**
 * Serialises a value as JSON that is safe to embed inside an HTML
 * `<script type="application/json">` element: `<`, `>`, `&`, U+2028 and
 * U+2029 are written as `\uXXXX` escapes, so no data can close the script
 * tag or open an HTML comment, and the result is still valid JSON that
 * parses back to the same value.
 */
export function embedJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) {
    throw new TypeError('embedJson: value is not JSON-serialisable');
  }
  return json.replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
