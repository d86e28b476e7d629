import { INVISIBLE_CHARACTER, identityProblem as nameRule, toolNameProblem } from '../_internal/names.ts';

/** One link of a delegation chain: an ancestor credential and the agent it was issued to. */
export interface CredentialLink {
  /** The ancestor's `jti`. */
  readonly jti: string;
  /** The ancestor's agent (`sub`). */
  readonly sub: string;
  /** The ancestor agent's registration revision when that credential was issued. */
  readonly rev: number;
}

/**
 * The claims of an agent credential. `intent`, `session`, `parent` and `chain` are optional; times
 * are NumericDate (seconds since the epoch).
 */
export interface CredentialClaims {
  /** Issuer: the key set's `issuer`. */
  readonly iss: string;
  /** Audience(s): the service(s) that may accept it. */
  readonly aud: string | readonly string[];
  /** The agent. */
  readonly sub: string;
  /** Who the agent acts for. */
  readonly principal: string;
  readonly intent?: string;
  readonly session?: string;
  /** Tool globs the credential covers (anchored; `*` matches any run of characters). */
  readonly tools: readonly string[];
  /** The parent credential's `jti`, for a delegated credential. */
  readonly parent?: string;
  /** Every ancestor, root first; its last link is `parent`. Present exactly when `parent` is. */
  readonly chain?: readonly CredentialLink[];
  /** The agent's registration revision at issue (absent: 1). */
  readonly rev?: number;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  /** Credential id: what `revokeCredential` and the audit trail name. */
  readonly jti: string;
}

/** Longest credential life accepted anywhere (a registration's `maxTtl` included): 30 days. */
export const MAX_LIFETIME_MS: number = 30 * 24 * 60 * 60 * 1000;
/** Most links in a delegation chain. */
export const MAX_DELEGATION_DEPTH = 8;
/** Most tool globs in one credential. */
export const MAX_TOOLS = 256;
/** Longest compact token accepted or issued, in characters. */
export const MAX_TOKEN_LENGTH = 8192;

/**
 * Why `value` is not an acceptable identity string (agent, principal, intent, session, jti), or
 * undefined: a non-empty NFC string of at most 256 characters, without control, format (zero-width,
 * bidi) or unassigned characters and without leading or trailing whitespace, and, as every identity
 * the guard compares (src/_internal/names.ts), without separator or whitespace characters inside
 * but single spaces: a credential's `finance:jane\u00a0doe` would otherwise be another person than
 * the approver `finance:jane doe` under separation of duties, and one a host context refuses.
 */
export function identityProblem(value: unknown, what: string): string | undefined {
  if (typeof value !== 'string') return `${what} must be a string`;
  if (value.length === 0 || value.length > 256) return `${what} must have 1 to 256 characters`;
  if (INVISIBLE_CHARACTER.test(value))
    return `${what} must not contain control, format, unassigned or other invisible characters`;
  if (value.trim() !== value) return `${what} must not start or end with whitespace`;
  const inside = nameRule(value, what);
  if (inside !== undefined) return inside;
  if (value.normalize('NFC') !== value) return `${what} must be in Unicode NFC`;
  return undefined;
}

/** Why `value` is not a list of tool globs, or undefined. */
export function toolsProblem(value: unknown, what: string): string | undefined {
  if (!Array.isArray(value) || value.length === 0) return `${what} must be a non-empty array of tool globs`;
  if (value.length > MAX_TOOLS) return `${what} may hold at most ${MAX_TOOLS} globs`;
  for (const glob of value) {
    const problem = toolNameProblem(glob);
    if (problem !== undefined) return `${what}: ${problem.replace('a tool name', 'a tool glob')}`;
  }
  return undefined;
}

const NUMERIC = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 && value < 1e11;

const KNOWN_LINK = new Set(['jti', 'sub', 'rev']);

/**
 * Checks the shape of a claims set (not time, issuer or audience) and returns the claims this
 * package reads, frozen; unknown claims are dropped. A string says what is wrong.
 */
export function readClaims(raw: Record<string, unknown>): CredentialClaims | string {
  for (const field of ['iss', 'sub', 'principal', 'jti'] as const) {
    const problem = identityProblem(raw[field], field);
    if (problem !== undefined) return problem;
  }
  for (const field of ['intent', 'session', 'parent'] as const) {
    if (raw[field] === undefined) continue;
    const problem = identityProblem(raw[field], field);
    if (problem !== undefined) return problem;
  }
  const aud = raw.aud;
  if (Array.isArray(aud)) {
    if (aud.length === 0 || aud.length > 16) return 'aud must hold 1 to 16 audiences';
    for (const item of aud) {
      const problem = identityProblem(item, 'aud');
      if (problem !== undefined) return problem;
    }
  } else {
    const problem = identityProblem(aud, 'aud');
    if (problem !== undefined) return problem;
  }
  const tools = toolsProblem(raw.tools, 'tools');
  if (tools !== undefined) return tools;
  for (const field of ['iat', 'nbf', 'exp'] as const) {
    if (!NUMERIC(raw[field])) return `${field} must be a NumericDate (seconds since the epoch)`;
  }
  const iat = raw.iat as number;
  const nbf = raw.nbf as number;
  const exp = raw.exp as number;
  if (exp <= nbf || exp <= iat) return 'exp must come after iat and nbf';
  if ((exp - Math.min(iat, nbf)) * 1000 > MAX_LIFETIME_MS) return 'the credential lives longer than 30 days';
  if (raw.rev !== undefined && !(Number.isSafeInteger(raw.rev) && (raw.rev as number) >= 1))
    return 'rev must be a positive integer';
  let chain: CredentialLink[] | undefined;
  if (raw.chain !== undefined || raw.parent !== undefined) {
    if (raw.parent === undefined || !Array.isArray(raw.chain)) return 'parent and chain go together';
    if (raw.chain.length === 0 || raw.chain.length > MAX_DELEGATION_DEPTH)
      return `chain must hold 1 to ${MAX_DELEGATION_DEPTH} links`;
    chain = [];
    for (const link of raw.chain as unknown[]) {
      if (typeof link !== 'object' || link === null || Array.isArray(link))
        return 'a chain link must be an object';
      const entry = link as Record<string, unknown>;
      if (Object.keys(entry).some((key) => !KNOWN_LINK.has(key))) return 'a chain link has { jti, sub, rev }';
      const problem = identityProblem(entry.jti, 'chain jti') ?? identityProblem(entry.sub, 'chain sub');
      if (problem !== undefined) return problem;
      if (!(Number.isSafeInteger(entry.rev) && (entry.rev as number) >= 1))
        return 'chain rev must be a positive integer';
      chain.push(
        Object.freeze({ jti: entry.jti as string, sub: entry.sub as string, rev: entry.rev as number }),
      );
    }
    if (chain[chain.length - 1]!.jti !== raw.parent) return 'the last link of chain must be parent';
    const ids = new Set([raw.jti, ...chain.map((link) => link.jti)]);
    if (ids.size !== chain.length + 1) return 'a credential cannot be its own ancestor';
  }
  const claims: { -readonly [K in keyof CredentialClaims]: CredentialClaims[K] } = {
    iss: raw.iss as string,
    aud: Array.isArray(aud) ? Object.freeze([...(aud as string[])]) : (aud as string),
    sub: raw.sub as string,
    principal: raw.principal as string,
    tools: Object.freeze([...(raw.tools as string[])]),
    iat,
    nbf,
    exp,
    jti: raw.jti as string,
  };
  if (raw.intent !== undefined) claims.intent = raw.intent as string;
  if (raw.session !== undefined) claims.session = raw.session as string;
  if (raw.parent !== undefined) claims.parent = raw.parent as string;
  if (chain !== undefined) claims.chain = Object.freeze(chain);
  if (raw.rev !== undefined) claims.rev = raw.rev as number;
  return Object.freeze(claims);
}
