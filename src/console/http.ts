// Responses of the console: every one carries the security headers, nothing is cached, and
// request bodies are read with a size limit.

/** The Content-Security-Policy of every response: own scripts and styles only, no framing. */
export const CONTENT_SECURITY_POLICY: string = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers every console response carries. */
export function securityHeaders(secure: boolean): Headers {
  const headers = new Headers({
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
    'cache-control': 'no-store',
  });
  if (secure) headers.set('strict-transport-security', 'max-age=31536000');
  return headers;
}

/** An error answer: status and a message for the person. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** A JSON response with the security headers. */
export function json(value: unknown, status: number, secure: boolean, extra?: Headers): Response {
  const headers = securityHeaders(secure);
  headers.set('content-type', 'application/json; charset=utf-8');
  extra?.forEach((v, k) => {
    headers.append(k, v);
  });
  return new Response(JSON.stringify(value), { status, headers });
}

/** Reads a request body as text, refusing more than `limit` bytes (413). */
export async function readBody(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limit) throw new HttpError(413, `the request body is larger than ${limit} bytes`);
  if (request.body === null) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new HttpError(413, `the request body is larger than ${limit} bytes`);
    }
    chunks.push(value);
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(chunks));
}

/** Reads a JSON object body (400 when it is not one). */
export async function readJsonObject(request: Request, limit: number): Promise<Record<string, unknown>> {
  const type = request.headers.get('content-type') ?? '';
  if (!type.toLowerCase().startsWith('application/json')) throw new HttpError(415, 'send application/json');
  let value: unknown;
  try {
    value = JSON.parse(await readBody(request, limit));
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new HttpError(400, 'the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new HttpError(400, 'the body must be a JSON object');
  return value as Record<string, unknown>;
}

/** Cookies of a request, by name; a name the request repeats is left out. */
export function cookies(request: Request): Map<string, string> {
  const found = new Map<string, string>();
  const repeated = new Set<string>();
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    // Spaces and tabs only (RFC 6265): `trim()` would also strip a leading U+00A0 (a raw 0xA0 byte),
    // and the browser applies the `__Host-` rules only to a name that begins with `__Host-`, so a
    // cookie named `\u00a0__Host-toolgate-session` could be set from a sibling host.
    const name = withoutSpaces(part.slice(0, eq));
    if (found.has(name)) repeated.add(name);
    else found.set(name, withoutSpaces(part.slice(eq + 1)));
  }
  // Which of two cookies of one name is genuine cannot be told (one may have been planted from a
  // sibling host over plain HTTP): neither is taken, so a planted session never signs anyone in.
  for (const name of repeated) found.delete(name);
  return found;
}

function withoutSpaces(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, '');
}
