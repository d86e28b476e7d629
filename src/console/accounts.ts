import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { identityProblem } from '../_internal/names.ts';
import { fileProblem, readTextFileSync } from '../_internal/read-text.ts';
import { ConfigurationError } from '../errors.ts';

/** What an account may do: `viewer` reads, `approver` also answers approvals, `admin` also revokes and suspends. */
export type ConsoleRole = 'viewer' | 'approver' | 'admin';

/** A console account: a password (its scrypt hash from `hashPassword`) or a token, and a role. */
export type ConsoleAccount =
  | {
      readonly name: string;
      readonly role: ConsoleRole;
      readonly passwordHash: string;
      readonly token?: never;
    }
  | {
      readonly name: string;
      readonly role: ConsoleRole;
      readonly token: string;
      readonly passwordHash?: never;
    };

/** A signed-in account as the console sees it. */
export interface SignedIn {
  readonly name: string;
  readonly role: ConsoleRole;
}

const ROLES: readonly ConsoleRole[] = ['viewer', 'approver', 'admin'];
const ACCOUNT_KEYS = new Set(['name', 'role', 'passwordHash', 'token']);
/** scrypt cost: N = 2^15, r = 8, p = 1 (about 32 MiB and a few tens of ms per check). */
const COST = { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const KEY_BYTES = 32;
const MIN_TOKEN_LENGTH = 16;
const MAX_SECRET_LENGTH = 1024;

/**
 * Hashes a password for a console account with scrypt (N 2^15, r 8, p 1, a random 16-byte salt).
 * The result is a self-describing string: `scrypt$32768$8$1$<salt>$<hash>` (base64url).
 *
 * @example
 * const accounts = [{ name: 'dana', role: 'approver', passwordHash: hashPassword('correct horse') }];
 */
export function hashPassword(password: string): string {
  if (typeof password !== 'string' || password.length === 0)
    throw new TypeError('toolgate: hashPassword() takes a non-empty string');
  if (password.length > MAX_SECRET_LENGTH) throw new TypeError('toolgate: the password is too long');
  const salt = randomBytes(16);
  const hash = scryptSync(password.normalize('NFC'), salt, KEY_BYTES, COST);
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

interface ParsedHash {
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function parseHash(text: string): ParsedHash | undefined {
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const hash = Buffer.from(parts[5] ?? '', 'base64url');
  const power = Number.isSafeInteger(N) && N >= 1024 && N <= 1 << 20 && (N & (N - 1)) === 0;
  if (!power || !(r >= 1 && r <= 32) || !(p >= 1 && p <= 16)) return undefined;
  if (salt.length < 8 || hash.length < 16) return undefined;
  return { N, r, p, salt, hash };
}

function derive(password: string, parsed: ParsedHash): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFC'),
      parsed.salt,
      parsed.hash.length,
      { N: parsed.N, r: parsed.r, p: parsed.p, maxmem: 256 * parsed.N * parsed.r },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

/** A hash nobody's password matches, checked for unknown names so they take as long as known ones. */
const DECOY = parseHash(
  ['scrypt', COST.N, COST.r, COST.p, 'AAAAAAAAAAAAAAAAAAAAAA', 'A'.repeat(43)].join('$'),
)!;

/** Same-length digests compared in constant time (the inputs may differ in length). */
function sameSecret(a: string, b: string): boolean {
  const left = createHash('sha256').update(a, 'utf8').digest();
  const right = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(left, right);
}

/** The console's accounts, checked at construction. */
export class Accounts {
  private readonly byName: ReadonlyMap<string, ConsoleAccount>;

  constructor(source: string | readonly ConsoleAccount[]) {
    const list = typeof source === 'string' ? readAccountsFile(source) : source;
    if (!Array.isArray(list) || list.length === 0)
      throw new ConfigurationError('console: accounts must be a non-empty list (or a file holding one)');
    const byName = new Map<string, ConsoleAccount>();
    list.forEach((account: unknown, index: number) => {
      const checked = checkAccount(account, index);
      if (byName.has(checked.name))
        throw new ConfigurationError(`console: account ${JSON.stringify(checked.name)} is listed twice`);
      byName.set(checked.name, checked);
    });
    this.byName = byName;
  }

  /** The account's current role, or undefined when it no longer exists. */
  find(name: string): SignedIn | undefined {
    const account = this.byName.get(name);
    return account === undefined ? undefined : { name: account.name, role: account.role };
  }

  /**
   * Checks a name and a password (or token). Unknown names and wrong secrets cost the same
   * scrypt work and compare in constant time, so timing tells nothing about which names exist.
   */
  async verify(name: string, secret: string): Promise<SignedIn | undefined> {
    if (secret.length === 0 || secret.length > MAX_SECRET_LENGTH) return undefined;
    const account = this.byName.get(name.normalize('NFC'));
    if (account?.token !== undefined) {
      await derive(secret, DECOY);
      return sameSecret(secret, account.token) ? { name: account.name, role: account.role } : undefined;
    }
    const parsed = account?.passwordHash === undefined ? DECOY : (parseHash(account.passwordHash) ?? DECOY);
    const derived = await derive(secret, parsed);
    const match = derived.length === parsed.hash.length && timingSafeEqual(derived, parsed.hash);
    return match && account !== undefined && parsed !== DECOY
      ? { name: account.name, role: account.role }
      : undefined;
  }
}

function checkAccount(value: unknown, index: number): ConsoleAccount {
  const label = `console: account ${index}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigurationError(`${label} must be an object`);
  const raw = value as Record<string, unknown>;
  for (const key of Reflect.ownKeys(raw)) {
    if (typeof key !== 'string' || !ACCOUNT_KEYS.has(key))
      throw new ConfigurationError(`${label} has an unknown field ${JSON.stringify(String(key))}`);
  }
  const { name, role, passwordHash, token } = raw;
  if (typeof name !== 'string' || name.length === 0 || name.length > 200 || name !== name.trim())
    throw new ConfigurationError(`${label}: name must be a non-empty string without outer spaces`);
  // The name is who approves: checked as every identity is, so one person is one name.
  const problem = identityProblem(name, 'name');
  if (problem !== undefined) throw new ConfigurationError(`${label}: ${problem}`);
  if (name !== name.normalize('NFC')) throw new ConfigurationError(`${label}: name must be NFC-normalized`);
  const who = `console: account ${JSON.stringify(name)}`;
  if (!ROLES.includes(role as ConsoleRole))
    throw new ConfigurationError(`${who}: role must be viewer, approver or admin`);
  if ((passwordHash === undefined) === (token === undefined))
    throw new ConfigurationError(`${who} needs exactly one of passwordHash or token`);
  if (passwordHash !== undefined) {
    if (typeof passwordHash !== 'string' || parseHash(passwordHash) === undefined)
      throw new ConfigurationError(`${who}: passwordHash must come from hashPassword()`);
    return Object.freeze({ name, role: role as ConsoleRole, passwordHash });
  }
  if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH || token.length > MAX_SECRET_LENGTH)
    throw new ConfigurationError(`${who}: token must be a string of at least ${MIN_TOKEN_LENGTH} characters`);
  return Object.freeze({ name, role: role as ConsoleRole, token });
}

/** An accounts file past this is refused unread (a path to a device that never ends, say). */
const MAX_ACCOUNTS_FILE_BYTES = 16 * 1024 * 1024;

function readAccountsFile(path: string): unknown[] {
  let text: string;
  try {
    text = readTextFileSync(path, MAX_ACCOUNTS_FILE_BYTES);
  } catch (error) {
    const why = fileProblem(error) ?? String((error as Error)?.message ?? error);
    throw new ConfigurationError(`console: cannot read the accounts file ${path}: ${why}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Neither the parser's message nor the error as a cause: both quote the file, which holds
    // tokens and password hashes.
    throw new ConfigurationError(`console: cannot read the accounts file ${path}: it is not JSON`);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { accounts?: unknown } | null)?.accounts;
  if (!Array.isArray(list))
    throw new ConfigurationError(`console: ${path} must hold a list of accounts or { "accounts": [...] }`);
  return list;
}
