/**
 * `?` placeholders (SQLite) to `$1, $2, …` (PostgreSQL), the one place the two differ in how
 * queries are written. `?` inside a quoted string or identifier is left alone.
 */
export function toPgPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  let quote: string | undefined;
  for (const ch of sql) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === '?') {
      out += `$${++n}`;
    } else {
      out += ch;
    }
  }
  return out;
}
