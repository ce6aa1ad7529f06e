/**
 * "The expiration element specifies the expiration date and time of the POST policy in ISO8601
 * GMT date format" (AWS, POST Policy). S3 refused an offset (`+02:00`) and a space for the `T`
 * ("Invalid 'expiration' value: ..."), so only the UTC `Z` form is read, with or without
 * fractional seconds (AWS's examples carry `.000`, botocore and the JS SDK send none).
 */
const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z$/;

/** Epoch milliseconds, or undefined when the text is not a real UTC instant. */
export function parseExpiration(text: string): number | undefined {
  const m = ISO_UTC.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const d = new Date(t);
  // Date.UTC rolls 02-30 over to 03-02; S3 refuses dates that do not exist.
  const exists =
    d.getUTCFullYear() === year &&
    d.getUTCMonth() === month - 1 &&
    d.getUTCDate() === day &&
    d.getUTCHours() === hour &&
    d.getUTCMinutes() === minute &&
    d.getUTCSeconds() === second;
  return exists ? t : undefined;
}

/** "…specifies that the POST policy is not valid after" that instant: valid at it, expired past it. */
export function isExpired(expiresAt: number, now: number): boolean {
  return now > expiresAt;
}
