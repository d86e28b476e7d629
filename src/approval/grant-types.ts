import type { Duration, ToolRequest } from '../types.ts';

// The public shapes of grants: what `tg.grants` takes and returns. Kept apart from the manager
// (src/approval/grants.ts) and the stored form (src/approval/grant-records.ts), which both use them.

/** A compiled grant condition: only `true` lets the grant apply. */
export type GrantCondition = (request: ToolRequest) => boolean | undefined;

/** Compiles a grant's `when` (the rule language's conditions). */
export type CompileWhen = (when: unknown, label: string) => GrantCondition;

/**
 * What `tg.grants.issue()` takes: use-case access decided up front by host code. Name fields are
 * anchored globs; an omitted field means "any". A grant must expire (`for` or `until`).
 */
export interface GrantOptions {
  /** Tool name glob, e.g. `'db.query'`. */
  tool: string;
  agent?: string;
  principal?: string;
  intent?: string;
  /** Only calls with exactly these arguments (their `argsHash`). */
  argsHash?: string;
  /** Conditions on the call, as in a rule's `when` (e.g. `{ 'args.sql': sqlScope({ tables: ['orders'] }) }`). */
  when?: Record<string, unknown>;
  /** How many calls the grant may allow in total. */
  maxUses?: number;
  /** Shown in the audit trail. */
  reason?: string;
  /** Lifetime from now, e.g. `'2h'`. */
  for?: Duration;
  /** Or an absolute expiry (epoch ms or Date). */
  until?: number | Date;
}

/**
 * What a remembered approval's grant carries: who approved and under which requirement. A grant
 * answers a later `ask` only if these approvers would meet that ask's own requirements.
 */
export interface GrantApproval {
  /** The distinct approvers whose approval the grant remembers (NFC). */
  readonly approvedBy: readonly string[];
  /** How many distinct approvers the approved call needed. */
  readonly quorum: number;
  /** The approver globs the approved call required, if any. */
  readonly approvers?: readonly string[];
  /** Whether the approved call required separation of duties. */
  readonly separationOfDuties: boolean;
}

/** A grant as stored and listed. */
export interface Grant {
  readonly id: string;
  readonly tool: string;
  /** A string is a glob (exact name for remembered approvals); `null` means "the call has none". */
  readonly agent?: string | null;
  readonly principal?: string | null;
  readonly intent?: string | null;
  readonly argsHash?: string;
  /** True when the grant has conditions (`when`). */
  readonly conditional: boolean;
  readonly maxUses?: number;
  readonly reason?: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** `'host'`, or the approver whose remembered approval created it. */
  readonly issuedBy: string;
  /** For a remembered approval: who approved it and under which requirement. */
  readonly approval?: GrantApproval;
  /** Uses counted so far. */
  readonly uses: number;
}

/** `tg.grants`: issue, list and revoke grants. */
export interface GrantsApi {
  /** Issues a grant. Unknown keys and invalid values throw a ConfigurationError. */
  issue(options: GrantOptions): Promise<Grant>;
  /** The live grants. */
  list(): Promise<Grant[]>;
  /** Revokes a grant; `true` if it existed. */
  revoke(id: string): Promise<boolean>;
}
