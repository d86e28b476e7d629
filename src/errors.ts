import { failedLine } from './_internal/failed-text.ts';
import type { Decision, DenyCode, FailedCondition } from './types.ts';

const MARKER = 'toolgate.error';
const BRAND: symbol = Symbol.for(MARKER);

function brand(target: object, symbol: symbol): void {
  Object.defineProperty(target, symbol, { value: true });
}

/** Options shared by every toolgate error. */
export interface GuardErrorOptions {
  /** UPPER_SNAKE code, stable across versions. */
  code: string;
  message: string;
  cause?: unknown;
}

/**
 * Base class of every error toolgate throws. Branded with `Symbol.for('toolgate.error')`, so
 * `GuardError.isInstance()` works even when two copies of toolgate are loaded.
 */
export class GuardError extends Error {
  /** Stable UPPER_SNAKE code. */
  readonly code: string;

  constructor({ code, message, cause }: GuardErrorOptions) {
    super(message, cause === undefined ? undefined : { cause });
    brand(this, BRAND);
    this.name = 'GuardError';
    this.code = code;
  }

  /** True for any toolgate error, from any copy of the package. */
  static isInstance(error: unknown): error is GuardError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** Thrown at construction for invalid options (code `CONFIGURATION_ERROR`). */
export class ConfigurationError extends GuardError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super({ code: 'CONFIGURATION_ERROR', message: `toolgate: ${message}`, cause: options.cause });
    this.name = 'ConfigurationError';
  }

  static override isInstance(error: unknown): error is ConfigurationError {
    return GuardError.isInstance(error) && error.code === 'CONFIGURATION_ERROR';
  }
}

/** Thrown by a guarded tool when its call is denied (unless the guard uses `onDeny: 'return'`). */
const DENIED_BRAND: symbol = Symbol.for(`${MARKER}.ToolDeniedError`);

export class ToolDeniedError extends GuardError {
  declare readonly code: DenyCode;
  /** The tool name. */
  readonly tool: string;
  readonly callId: string;
  /** Human-readable reason; safe to show to the model. */
  readonly reason: string;
  /** The full decision that denied the call. */
  readonly decision: Decision;
  /** The rule that decided the denial: the deny rule, or the nearest rule that did not allow. */
  readonly rule: string | undefined;
  /** The conditions that failed, redacted: path, what was expected, what was found. */
  readonly failed: readonly FailedCondition[];

  constructor(options: {
    code: DenyCode;
    tool: string;
    callId: string;
    reason: string;
    decision: Decision;
    /** @default the decision's first rule, else the rule of its first failed condition */
    rule?: string | undefined;
    /** @default the decision's `failed` */
    failed?: readonly FailedCondition[] | undefined;
    cause?: unknown;
  }) {
    const failed =
      options.failed ?? (options.decision.type === 'deny' ? options.decision.failed : undefined) ?? [];
    const rule = options.rule ?? denialRule(options.decision.rules, failed);
    // The message is for the developer: it names the rule and the failed conditions.
    const detail =
      failed.length > 0 ? ` [${failedLine(failed)}]` : rule === undefined ? '' : ` [rule ${rule}]`;
    super({
      code: options.code,
      message: `toolgate denied ${options.tool} (${options.code}): ${options.reason}${detail}`,
      cause: options.cause,
    });
    brand(this, DENIED_BRAND);
    this.name = 'ToolDeniedError';
    this.tool = options.tool;
    this.callId = options.callId;
    this.reason = options.reason;
    this.decision = options.decision;
    this.rule = rule;
    this.failed = failed;
  }

  static override isInstance(error: unknown): error is ToolDeniedError {
    return (
      GuardError.isInstance(error) && (error as unknown as Record<symbol, unknown>)[DENIED_BRAND] === true
    );
  }
}

/** The rule a denial names: the first that decided it, else the one its first failed condition belongs to. */
export function denialRule(
  rules: readonly string[] | undefined,
  failed: readonly FailedCondition[] | undefined,
): string | undefined {
  return rules?.[0] ?? failed?.find((entry) => entry.rule !== undefined)?.rule;
}

const INTERRUPTED_BRAND: symbol = Symbol.for(`${MARKER}.ToolInterruptedError`);

/**
 * Thrown when an allowed call is stopped: `TIMEOUT` (the tool ran past its timeout), `CANCELLED`
 * (the caller aborted), `AUDIT_UNAVAILABLE` (fail-closed audit could not record the decision) or
 * `DENIED_BY_RULE` (the result broke a `maxBytes` obligation and could not be cut, so it was withheld).
 * `ran` tells whether the tool had started.
 */
export class ToolInterruptedError extends GuardError {
  declare readonly code: 'TIMEOUT' | 'CANCELLED' | 'AUDIT_UNAVAILABLE' | 'DENIED_BY_RULE';
  readonly tool: string;
  readonly callId: string;
  readonly reason: string;
  readonly decision: Decision;
  /** Whether the tool had started running (it may still be running if it ignores its signal). */
  readonly ran: boolean;

  constructor(options: {
    code: 'TIMEOUT' | 'CANCELLED' | 'AUDIT_UNAVAILABLE' | 'DENIED_BY_RULE';
    tool: string;
    callId: string;
    reason: string;
    decision: Decision;
    ran: boolean;
  }) {
    super({
      code: options.code,
      message: `toolgate stopped ${options.tool} (${options.code}): ${options.reason}`,
    });
    brand(this, INTERRUPTED_BRAND);
    this.name = 'ToolInterruptedError';
    this.tool = options.tool;
    this.callId = options.callId;
    this.reason = options.reason;
    this.decision = options.decision;
    this.ran = options.ran;
  }

  static override isInstance(error: unknown): error is ToolInterruptedError {
    return (
      GuardError.isInstance(error) &&
      (error as unknown as Record<symbol, unknown>)[INTERRUPTED_BRAND] === true
    );
  }
}

/** Codes of `CredentialError`: why an agent credential was refused, at verification or at issue. */
export type CredentialErrorCode =
  /** No credential where one is required (the guard's code; never thrown by `verifyCredential`). */
  | 'UNAUTHENTICATED'
  /** Malformed, badly signed, wrong algorithm, unknown key, wrong issuer or audience. */
  | 'CREDENTIAL_INVALID'
  /** Past its `exp`, or before its `nbf`, beyond the allowed clock skew. */
  | 'CREDENTIAL_EXPIRED'
  /** The credential, one of its ancestors, or its agent's registration was revoked. */
  | 'CREDENTIAL_REVOKED'
  /** Its agent (or an agent it was delegated from) is suspended or revoked in the registry. */
  | 'AGENT_SUSPENDED'
  /** Issue or delegation asked for more than the agent's ceiling or the parent credential allows. */
  | 'OUT_OF_SCOPE'
  /** Issue or delegation named an agent the registry does not know. */
  | 'UNKNOWN_AGENT';

const CREDENTIAL_BRAND: symbol = Symbol.for(`${MARKER}.CredentialError`);

/**
 * Thrown by `verifyCredential`, `issueCredential`, `delegateCredential` and the agent registry
 * (`toolgate/identity`) when a credential is refused. `reason` says why in words that never
 * contain the token itself.
 */
export class CredentialError extends GuardError {
  declare readonly code: CredentialErrorCode;
  /** Why, for logs and for a 401 body. */
  readonly reason: string;
  /** The credential's `jti`, when it was readable and signed. */
  readonly credentialId?: string;

  constructor(options: {
    code: CredentialErrorCode;
    reason: string;
    credentialId?: string;
    cause?: unknown;
  }) {
    super({
      code: options.code,
      message: `toolgate: credential refused (${options.code}): ${options.reason}`,
      cause: options.cause,
    });
    brand(this, CREDENTIAL_BRAND);
    this.name = 'CredentialError';
    this.reason = options.reason;
    if (options.credentialId !== undefined) this.credentialId = options.credentialId;
  }

  static override isInstance(error: unknown): error is CredentialError {
    return (
      GuardError.isInstance(error) && (error as unknown as Record<symbol, unknown>)[CREDENTIAL_BRAND] === true
    );
  }
}
