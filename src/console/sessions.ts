import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { StateStore } from '../store/types.ts';
import type { Accounts, SignedIn } from './accounts.ts';
import { cookies } from './http.ts';

const COLLECTION = 'console:sessions';

/** A live session: who is signed in and the CSRF token their page sends with every change. */
export interface Session extends SignedIn {
  /** The store id of the session (SHA-256 of its cookie value). */
  readonly id: string;
  readonly csrf: string;
  readonly expiresAt: number;
}

/**
 * Sessions live in the StateStore (by the SHA-256 of the cookie value, never the value itself), so
 * several console processes behind one address share them, and a restart signs nobody out. The
 * account's role is read from the current accounts on every request: a removed account is out at once.
 */
export class Sessions {
  constructor(
    private readonly store: StateStore,
    private readonly accounts: Accounts,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /**
   * The cookie's name: `__Host-` prefixed behind TLS, so no other host (a sibling subdomain) and no
   * plain-HTTP page can set or shadow it. A `__Secure-` cookie could be planted from a subdomain.
   */
  cookieName(secure: boolean): string {
    return secure ? '__Host-toolgate-session' : 'toolgate-session';
  }

  /**
   * The cookie's `Path`: `/` behind TLS, which the `__Host-` prefix requires (the console is meant
   * to have its origin to itself); the mount point otherwise.
   */
  cookiePath(secure: boolean, basePath: string): string {
    return secure || basePath === '' ? '/' : basePath;
  }

  async create(account: SignedIn): Promise<{ token: string; session: Session }> {
    const token = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    const at = this.now();
    const id = idOf(token);
    await this.store.put(COLLECTION, id, { account: account.name, csrf, at }, { now: at, ttlMs: this.ttlMs });
    return { token, session: { ...account, id, csrf, expiresAt: at + this.ttlMs } };
  }

  async read(request: Request, secure: boolean): Promise<Session | undefined> {
    const token = cookies(request).get(this.cookieName(secure));
    if (token === undefined || !/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const id = idOf(token);
    const record = await this.store.get(COLLECTION, id, this.now());
    const value = record?.value as { account?: unknown; csrf?: unknown } | null | undefined;
    if (typeof value?.account !== 'string' || typeof value.csrf !== 'string') return undefined;
    const account = this.accounts.find(value.account);
    if (account === undefined) return undefined;
    return { ...account, id, csrf: value.csrf, expiresAt: record?.expiresAt ?? this.now() + this.ttlMs };
  }

  async end(session: Session): Promise<void> {
    await this.store.delete(COLLECTION, session.id);
  }

  setCookie(token: string, secure: boolean, path: string): string {
    const parts = [
      `${this.cookieName(secure)}=${token}`,
      `Path=${path}`,
      `Max-Age=${Math.floor(this.ttlMs / 1000)}`,
      'HttpOnly',
      'SameSite=Strict',
    ];
    if (secure) parts.push('Secure');
    return parts.join('; ');
  }

  clearCookie(secure: boolean, path: string): string {
    const parts = [`${this.cookieName(secure)}=`, `Path=${path}`, 'Max-Age=0', 'HttpOnly', 'SameSite=Strict'];
    if (secure) parts.push('Secure');
    return parts.join('; ');
  }
}

/** Whether `sent` is the session's CSRF token, compared in constant time. */
export function csrfMatches(session: Session, sent: string | null): boolean {
  if (sent === null) return false;
  // Compared as bytes: a header of as many characters but more bytes (Latin-1 from node:http) is
  // another token, not an error.
  const given = Buffer.from(sent, 'utf8');
  const expected = Buffer.from(session.csrf, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function idOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Sign-in throttling, in this process: failures per name and per client address in a sliding
 * window. A name or address past its limit is refused (429) until old failures leave the window.
 */
export class SignInLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly now: () => number,
    private readonly windowMs: number = 15 * 60_000,
    private readonly perName: number = 5,
    private readonly perAddress: number = 20,
  ) {}

  /** Seconds until `name` (from `address`) may try again, or 0. */
  retryAfter(name: string, address: string | undefined): number {
    const waits = [this.wait(`n:${name}`, this.perName)];
    if (address !== undefined) waits.push(this.wait(`a:${address}`, this.perAddress));
    return Math.max(...waits);
  }

  /**
   * Starts a sign-in: answers the seconds to wait (nothing counted), or 0 after counting the attempt
   * as a failure until `succeed` says otherwise. Counted before the password is checked (an await),
   * so a burst of concurrent guesses meets the limit as the same guesses one by one would.
   */
  begin(name: string, address: string | undefined): number {
    const wait = this.retryAfter(name, address);
    if (wait === 0) this.fail(name, address);
    return wait;
  }

  fail(name: string, address: string | undefined): void {
    // No global limit: it would let anyone lock every account out.
    for (const key of [`n:${name}`, address === undefined ? undefined : `a:${address}`]) {
      if (key === undefined) continue;
      const list = this.live(key);
      list.push(this.now());
      this.failures.set(key, list);
    }
    if (this.failures.size > 10_000) this.prune();
  }

  /** A sign-in that `begin` counted succeeded: the name starts afresh, and the address's count of it is taken back. */
  succeed(name: string, address?: string): void {
    this.failures.delete(`n:${name}`);
    if (address === undefined) return;
    const list = this.failures.get(`a:${address}`);
    list?.pop();
  }

  private live(key: string): number[] {
    const since = this.now() - this.windowMs;
    return (this.failures.get(key) ?? []).filter((at) => at > since);
  }

  private wait(key: string, limit: number): number {
    const list = this.live(key);
    if (list.length < limit) return 0;
    const oldest = list[list.length - limit]!;
    return Math.max(1, Math.ceil((oldest + this.windowMs - this.now()) / 1000));
  }

  private prune(): void {
    for (const key of [...this.failures.keys()]) {
      if (this.live(key).length === 0) this.failures.delete(key);
    }
  }
}
