/**
 * A multipart/form-data body (RFC 7578) of known length, built around a Blob without reading it:
 * framing before, the file's own stream, framing after. Storage needs the Content-Length (S3's
 * POST Object refuses chunked bodies), which FormData+fetch would give but without progress.
 */
export interface FormBody {
  contentType: string;
  length: number;
  head: Uint8Array;
  tail: Uint8Array;
}

const enc = new TextEncoder();

/**
 * Quotes and line breaks in a name or filename are percent-encoded, as browsers do (WHATWG HTML
 * "multipart/form-data encoding algorithm"), so a filename cannot end the header or add one.
 */
function quoted(s: string): string {
  return s.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function formBody(
  fields: readonly (readonly [string, string])[],
  file: { size: number; filename: string },
  boundary = `----chute${crypto.randomUUID().replace(/-/g, '')}`,
): FormBody {
  let head = '';
  for (const [name, value] of fields)
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(name)}"\r\n\r\n${value}\r\n`;
  head +=
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quoted(file.filename)}"\r\n` +
    'Content-Type: application/octet-stream\r\n\r\n';
  const headBytes = enc.encode(head);
  const tailBytes = enc.encode(`\r\n--${boundary}--\r\n`);
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length: headBytes.byteLength + file.size + tailBytes.byteLength,
    head: headBytes,
    tail: tailBytes,
  };
}
