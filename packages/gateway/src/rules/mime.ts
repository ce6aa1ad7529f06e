/**
 * Media types as the gateway compares them. RFC 9110 §8.3.1: type and subtype are
 * case-insensitive tokens; parameters (`; charset=…`) do not change what the bytes are.
 */
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
// Parameters must be printable ASCII: the declared type is sent back as a signed header, so a CR
// or LF here would be header injection.
const MEDIA_TYPE = new RegExp(`^(${TOKEN})/(${TOKEN}) *(;[\\x20-\\x7e]*)?$`);

/** `image/png` from ` Image/PNG; x=y `, or undefined when it is not a media type. */
export function essence(contentType: string): string | undefined {
  const m = MEDIA_TYPE.exec(contentType.trim());
  return m ? `${m[1]}/${m[2]}`.toLowerCase() : undefined;
}

/** A route's allowed type: exact (`image/png`) or a whole top-level type (`image/*`). */
export type TypePattern = `${string}/${string}`;

export function isTypePattern(p: string): boolean {
  const m = MEDIA_TYPE.exec(p);
  return m !== null && m[3] === undefined && p === p.toLowerCase() && m[1] !== '*';
}

/** Whether a type essence (lowercase) is allowed by any of the patterns. */
export function typeAllowed(typeEssence: string, patterns: readonly string[]): boolean {
  const top = typeEssence.slice(0, typeEssence.indexOf('/'));
  return patterns.some((p) => p === typeEssence || p === `${top}/*`);
}
