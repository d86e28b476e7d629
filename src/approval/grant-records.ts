import { type CompiledGlob, compileGlob } from '../_internal/glob.ts';
import type { JsonValue } from '../types.ts';
import { type GrantSource, parseGrantApproval } from './grant-approval.ts';
import type { Grant, GrantApproval } from './grant-types.ts';

// How grants are kept in the StateStore (src/approval/grants.ts manages them): the stored form,
// the collections that hold it, reading it back defensively, and matching a call's names.

/**
 * A grant as the store keeps it (JSON only); its id and use count are kept beside it. Version 2
 * carries where the grant comes from and, for a remembered approval, who approved it under which
 * requirement (G15). Version 1 records (written before) are read as grants that name no approvers.
 */
export interface StoredGrant {
  v: 2;
  source: GrantSource;
  /** Set exactly when `source` is `'approval'`. */
  approval?: GrantApproval;
  tool: string;
  exact: boolean;
  agent?: string | null;
  principal?: string | null;
  intent?: string | null;
  argsHash?: string;
  /** JSON conditions any process can compile. */
  when?: JsonValue;
  /** Conditions that are code (predicates, scopes) and live only in the issuing process. */
  localWhen?: true;
  maxUses?: number;
  reason?: string;
  issuedAt: number;
  expiresAt: number;
  issuedBy: string;
}

/** Grants for one exact tool name live together, so a lookup reads only those and the glob ones. */
export const toolCollection = (tool: string) => `grants:t:${tool}`;
export const GLOB_COLLECTION = 'grants:glob';
/** Every grant id and the collection holding it, for list and revoke. */
export const IDS = 'grants:ids';

export function collectionOf(stored: StoredGrant): string {
  return stored.exact || !stored.tool.includes('*') ? toolCollection(stored.tool) : GLOB_COLLECTION;
}
const globCache = new Map<string, CompiledGlob>();

export function nameMatches(pattern: string, name: string, exact: boolean): boolean {
  if (exact) return pattern === name;
  let glob = globCache.get(pattern);
  if (glob === undefined) {
    glob = compileGlob(pattern);
    if (globCache.size > 1000) globCache.clear();
    globCache.set(pattern, glob);
  }
  return glob.test(name.normalize('NFC'));
}

export function fieldMatches(
  pattern: string | null | undefined,
  value: string | undefined,
  exact: boolean,
): boolean {
  if (pattern === undefined) return true;
  if (pattern === null) return value === undefined;
  return value !== undefined && nameMatches(pattern, value, exact);
}

export function toGrant(id: string, stored: StoredGrant, uses: number): Grant {
  const grant: { -readonly [K in keyof Grant]: Grant[K] } = {
    id,
    tool: stored.tool,
    conditional: stored.when !== undefined || stored.localWhen === true,
    issuedAt: stored.issuedAt,
    expiresAt: stored.expiresAt,
    issuedBy: stored.issuedBy,
    uses,
  };
  if (stored.agent !== undefined) grant.agent = stored.agent;
  if (stored.principal !== undefined) grant.principal = stored.principal;
  if (stored.intent !== undefined) grant.intent = stored.intent;
  if (stored.argsHash !== undefined) grant.argsHash = stored.argsHash;
  if (stored.maxUses !== undefined) grant.maxUses = stored.maxUses;
  if (stored.reason !== undefined) grant.reason = stored.reason;
  if (stored.approval !== undefined) grant.approval = stored.approval;
  return Object.freeze(grant);
}

/**
 * Reads a stored grant defensively: anything malformed is not a grant (and so allows nothing). A
 * version 1 record has no provenance: `exact` marked a remembered approval, which then names no
 * approvers (so it answers only asks any one approval meets, src/approval/grant-approval.ts).
 */
export function parseStored(value: unknown): StoredGrant | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const raw = value as Record<string, unknown>;
  if ((raw.v !== 1 && raw.v !== 2) || typeof raw.tool !== 'string' || typeof raw.exact !== 'boolean')
    return undefined;
  if (typeof raw.expiresAt !== 'number' || typeof raw.issuedAt !== 'number') return undefined;
  if (typeof raw.issuedBy !== 'string') return undefined;
  for (const field of ['agent', 'principal', 'intent'] as const) {
    const v = raw[field];
    if (v !== undefined && v !== null && typeof v !== 'string') return undefined;
  }
  if (raw.argsHash !== undefined && typeof raw.argsHash !== 'string') return undefined;
  if (raw.maxUses !== undefined && (!Number.isSafeInteger(raw.maxUses) || (raw.maxUses as number) < 1))
    return undefined;
  if (raw.localWhen !== undefined && raw.localWhen !== true) return undefined;
  let source: GrantSource;
  let approval: GrantApproval | undefined;
  if (raw.v === 1) {
    source = raw.exact ? 'approval' : 'host';
  } else if (raw.source === 'host' && raw.approval === undefined) {
    source = 'host';
  } else if (raw.source === 'approval') {
    source = 'approval';
    approval = parseGrantApproval(raw.approval);
    if (approval === undefined) return undefined;
  } else {
    return undefined;
  }
  const stored = { ...raw, v: 2, source } as unknown as StoredGrant;
  if (approval === undefined) delete stored.approval;
  else stored.approval = approval;
  return stored;
}
