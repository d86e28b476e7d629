const ALPHABET = /^[A-Za-z0-9_-]*$/;

/** Base64url without padding (RFC 7515 §2). */
export function encodeBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * Strict base64url: only the 64 URL-safe symbols, no padding, no whitespace, and canonical (the
 * unused low bits of the last symbol are zero), so one byte string has exactly one text form and
 * a token cannot be altered without changing its signed bytes. `undefined` when `text` is not.
 */
export function decodeBase64url(text: string): Buffer | undefined {
  if (text.length % 4 === 1 || !ALPHABET.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}
