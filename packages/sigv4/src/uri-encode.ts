/**
 * UriEncode as the SigV4 spec defines it ("Create a canonical request"):
 * "URI encode every byte except the unreserved characters: 'A'-'Z', 'a'-'z', '0'-'9', '-', '.',
 * '_', and '~'. The space character is a reserved character and must be encoded as "%20" (and
 * not as "+"). Each URI encoded byte is formed by a '%' and the two-digit uppercase hexadecimal
 * value of the byte. Encode the forward slash character, '/', everywhere except in the object
 * key name." S3 does not normalise paths: `a//b` and `./` are part of the key and stay.
 */

const SAFE = /^[A-Za-z0-9\-._~]*$/;
const SAFE_PATH = /^[A-Za-z0-9\-._~/]*$/;
// encodeURIComponent leaves these unescaped; SigV4 does not.
const EXTRA = /[!'()*]/g;
const hexByte = (c: string) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`;

export function uriEncode(value: string, encodeSlash = true): string {
  if ((encodeSlash ? SAFE : SAFE_PATH).test(value)) return value;
  // encodeURIComponent emits UTF-8 with uppercase hex, exactly what SigV4 asks for. It throws on
  // lone surrogates, which cannot be encoded as UTF-8 at all.
  const encoded = encodeURIComponent(value).replace(EXTRA, hexByte);
  return encodeSlash ? encoded : encoded.replaceAll('%2F', '/');
}

/** Encodes an object path ('/bucket/key'): every byte but unreserved ones and '/'. */
export function uriEncodePath(path: string): string {
  return uriEncode(path, false);
}

/**
 * Percent-decoding that never throws: a malformed escape stays as it was (S3 rejects such URIs
 * elsewhere; here we only need a stable canonical form). `plusIsSpace` follows
 * application/x-www-form-urlencoded, which is how query strings are read.
 */
export function uriDecode(value: string, plusIsSpace = false): string {
  const v = plusIsSpace && value.includes('+') ? value.replaceAll('+', ' ') : value;
  if (!v.includes('%')) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    return v.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}
