// Talking to the console's API: same origin, the session cookie, and the CSRF token on every change.

/** The signed-in session as the API reports it. */
export interface SessionInfo {
  account: string;
  role: 'viewer' | 'approver' | 'admin';
  csrf: string;
  expiresAt: number;
  features: { audit: boolean; policy: boolean; rememberChoices: string[] };
}

let csrf = '';

/** Remembers the CSRF token of the current session. */
export function useSession(session: SessionInfo): void {
  csrf = session.csrf;
}

/** An API failure, with the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function parse<T>(response: Response): Promise<T> {
  const type = response.headers.get('content-type') ?? '';
  const body = type.includes('json') ? ((await response.json()) as unknown) : await response.text();
  if (!response.ok) {
    const message = (body as { error?: unknown } | null)?.error;
    throw new ApiError(
      response.status,
      typeof message === 'string' ? message : `request failed (${response.status})`,
    );
  }
  return body as T;
}

/** GET a JSON resource. */
export async function get<T>(path: string): Promise<T> {
  return parse<T>(await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } }));
}

/** POST JSON with the CSRF token. */
export async function post<T>(path: string, body: unknown = {}): Promise<T> {
  return parse<T>(
    await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify(body),
    }),
  );
}
