// The shape of a grant as `tg.grants` lists it, apart from the grant manager (src/approval/grants.ts)
// and the stored form (src/approval/grant-records.ts), which both build it.

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
  /** Uses counted so far. */
  readonly uses: number;
}
