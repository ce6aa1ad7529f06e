/**
 * AWS's "Character Escaping" table for POST policies lists `\$` (dollar) and `\v` (vertical tab)
 * beside JSON's own escapes; JSON has neither. Rewrite those two, inside strings only, to the
 * `\uXXXX` JSON knows, so `JSON.parse` reads the document as S3's table says. Everything else,
 * including `\\$` (an escaped backslash, then a literal dollar), is left to JSON.
 */
const EXTRA: Record<string, string> = { $: '\\u0024', v: '\\u000b' };

export function normalizeEscapes(text: string): string {
  if (!text.includes('\\$') && !text.includes('\\v')) return text;
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (!inString) {
      if (c === '"') inString = true;
      out += c;
      continue;
    }
    if (c === '"') {
      inString = false;
      out += c;
    } else if (c === '\\') {
      const next = text[i + 1] ?? '';
      out += EXTRA[next] ?? c + next;
      i++;
    } else {
      out += c;
    }
  }
  return out;
}
