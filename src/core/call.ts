import { hashJson } from '../_internal/canonical.ts';
import { describeError } from '../_internal/describe-error.ts';
import type { LazyAbort } from '../_internal/lazy-abort.ts';
import { EMPTY_CONTEXT } from '../context.ts';
import type { CallOptions, ToolCallOptions } from '../guard-types.ts';
import type { VerifiedCredential } from '../identity/token.ts';
import type { LimitLease } from '../limits/admission.ts';
import type { OutputCut } from '../limits/output.ts';
import type { StandardSchemaV1 } from '../standard-schema.ts';
import type {
  Decision,
  DeepReadonly,
  DenyDecision,
  JsonObject,
  Obligations,
  ToolContext,
  ToolInfo,
  ToolRequest,
} from '../types.ts';

// The per-call objects of the pipeline (src/core/pipeline.ts). This module imports no other part
// of the core, so every step can import it. Classes rather than object literals: V8 builds
// literals with accessors through a slow runtime path, and these are made on every call
// (docs/performance.md, "The guarded call").

/** A tool registered with `tg.guard()`. */
export interface ToolDefinition {
  readonly fn: (args: unknown, options: unknown) => unknown;
  readonly info: ToolInfo;
  readonly input: StandardSchemaV1 | undefined;
  /** The secrets the tool declared (`secrets: ['stripe']`), handed to it by the secrets step. */
  readonly secrets: readonly string[];
}

/**
 * Stops a call after its decision was recorded, before or while the tool ran: the fail-closed
 * audit could not record the decision, the caller cancelled, or the tool ran past its timeout.
 */
export class Interruption {
  /** Whether the tool had started. */
  readonly ran: boolean;

  constructor(
    readonly code: 'AUDIT_UNAVAILABLE' | 'CANCELLED' | 'TIMEOUT' | 'DENIED_BY_RULE',
    readonly reason: string,
    tool: 'ran' | 'not-run',
  ) {
    this.ran = tool === 'ran';
  }
}

const NO_SECRETS: Readonly<Record<string, string>> = Object.freeze({});

/** What a step gives back: `undefined` to go on, a deny to stop the call there, or an interruption. */
export type StepResult = undefined | DenyDecision | Interruption;

/** Per-call state, read and written by the steps in order. */
export class Call {
  /** A dry run (`tg.check()`): grants and limits are looked at, never used, and nothing is recorded. */
  readonly peek: boolean;
  /** The guarded call this one runs inside, and how deep (set by the context step). */
  parentCallId: string | undefined = undefined;
  depth = 0;
  /** The host context, merged and frozen (set by the context step). */
  context: DeepReadonly<ToolContext> = EMPTY_CONTEXT;
  /** The agent credential presented (per call or by `withCredential`); never in the context. */
  credential: string | undefined = undefined;
  /** Whether the credential came with this call (`context.credential`) rather than from its scope. */
  credentialPerCall = false;
  /** The credential the verify step verified. */
  verified: VerifiedCredential | undefined = undefined;
  /** The store entries that refuse the credential, checked in the limits step's `admit`. */
  revocationKeys: readonly string[] | undefined = undefined;
  /** The secrets fetched for the tool by the secrets step. */
  secrets: Readonly<Record<string, string>> = NO_SECRETS;
  /** The frozen, validated arguments: from the snapshot step on, the only args anyone sees. */
  args: DeepReadonly<JsonObject> | undefined = undefined;
  /** The decision as it stands: the engine's, then the grant's, then the approval's. */
  decision: Decision | undefined = undefined;
  /** What the engine answered, recorded as `policyDecision`. */
  policyDecision: Decision['type'] = 'deny';
  policyVersion: string | undefined = undefined;
  approvers: readonly string[] | undefined = undefined;
  /** Slots and reservations taken by the limits step; released once, when the call settles. */
  lease: LimitLease | undefined = undefined;
  /** How many times the limits step admitted this call (twice after an approver's edit). */
  admissions = 0;
  /**
   * What the state store knows this call by: its id, or, when the host's `generateId` made it (and
   * may repeat it), a holder no other call has (`uniqueHolder`).
   */
  holder: string;
  /** What the output caps (`maxRows`, `maxBytes`) cut from the result. */
  outputCut: OutputCut | undefined = undefined;
  /** Why an output cap withheld the result, when one did (src/core/steps/execute.ts). */
  withheldBecause: string | undefined = undefined;
  eventSeq = 0;
  /** Where the step list goes on after a step that had to wait (see src/core/driver.ts). */
  resumeAt = 0;
  /** Whether a step had to wait (the driver then went on in a later tick). */
  waited = false;
  /** The request handed to engines for the current args (see `requestOf`). */
  request: CallRequest | undefined = undefined;
  /** Redacted copies for records, cached per value (see CallEvents.recordedArgs). */
  recordedArgsOf: unknown = undefined;
  recordedArgs: DeepReadonly<JsonObject> | undefined = undefined;
  recordedAttributesOf: unknown = undefined;
  recordedAttributes: DeepReadonly<JsonObject> | undefined = undefined;
  private hashedArgs: unknown = undefined;
  private hash = '';

  /** The number of the step running (src/core/pipeline.ts): what a step that throws denies with. */
  at = 0;
  /** `host.faults` of the core as the call started: a change by its decision denies it. */
  hostFaultsAtStart = 0;
  /** What the context step refuses in the caller's options (see the constructor), if anything. */
  optionsProblem: { readonly path: string; readonly problem: string } | undefined = undefined;
  /** The caller's per-call context, merged over the scope's by the context step. */
  readonly perCallContext: ToolContext | undefined;
  readonly signal: AbortSignal | undefined;
  /** The host framework's id for this call, recorded for correlation. */
  readonly toolCallId: string | undefined;

  constructor(
    readonly callId: string,
    readonly definition: ToolDefinition,
    /** The arguments as the caller passed them; the snapshot step copies them. */
    public rawArgs: unknown,
    /** The caller's options (`guarded(args, options)`), as passed. */
    caller: CallOptions | undefined,
    mode: 'call' | 'dry-run',
    /** `performance.now()` when the call started. */
    readonly startedAt: number,
    /**
     * The system clock (`Date.now()`) read with `startedAt`, from which the call's records take
     * their timestamps (see `CallEvents.tsAt`); `NaN` with a custom clock, which is read instead.
     */
    readonly wallStart: number,
  ) {
    this.peek = mode === 'dry-run';
    this.holder = callId;
    if (caller === undefined) {
      this.perCallContext = undefined;
      this.signal = undefined;
      this.toolCallId = undefined;
      return;
    }
    // The caller's options are read once, here; what cannot be read (a getter that throws, a Proxy
    // trap) or a `signal` that is no AbortSignal is refused by the context step, with its record.
    let field = 'options';
    try {
      field = 'options.context';
      this.perCallContext = caller?.context;
      field = 'options.signal';
      const signal = caller?.signal;
      if (signal !== undefined && !isAbortSignal(signal)) {
        this.signal = undefined;
        this.optionsProblem = { path: field, problem: 'is not an AbortSignal' };
      } else this.signal = signal;
      field = 'options.toolCallId';
      const toolCallId = caller?.toolCallId;
      this.toolCallId = typeof toolCallId === 'string' ? toolCallId : undefined;
    } catch (error) {
      this.perCallContext = undefined;
      this.signal = undefined;
      this.toolCallId = undefined;
      this.optionsProblem = { path: field, problem: `could not be read (${describeError(error)})` };
    }
  }

  get tool(): ToolInfo {
    return this.definition.info;
  }

  /** Hash of the current args, computed once per args value and only when someone reads it. */
  get argsHash(): string {
    return this.argsHashOf(this.args);
  }

  /** Hash of `args` (the call's current or an earlier value), cached for the latest value asked. */
  argsHashOf(args: DeepReadonly<JsonObject> | undefined): string {
    if (args === undefined) return '';
    if (this.hashedArgs !== args) {
      this.hash = hashJson(args);
      this.hashedArgs = args;
    }
    return this.hash;
  }
}

/**
 * What engines and steps see of a call. A class (not a literal with a getter) because V8 builds
 * literals with accessors through a slow runtime path; `argsHash` is hashed on first read.
 */
export class CallRequest implements ToolRequest {
  readonly callId: string;
  declare readonly parentCallId?: string;
  readonly depth: number;
  readonly tool: ToolInfo;
  readonly args: DeepReadonly<JsonObject>;
  readonly context: DeepReadonly<ToolContext>;
  readonly now: number;
  readonly #call: Call;

  constructor(call: Call, now: number) {
    this.callId = call.callId;
    if (call.parentCallId !== undefined) (this as { parentCallId?: string }).parentCallId = call.parentCallId;
    this.depth = call.depth;
    this.tool = call.tool;
    this.args = call.args!;
    this.context = call.context;
    this.now = now;
    this.#call = call;
    Object.freeze(this);
  }

  get argsHash(): string {
    return this.#call.args === this.args ? this.#call.argsHash : hashJson(this.args);
  }

  /** Keeps `argsHash` in serializations and spreads of the request made with JSON. */
  toJSON(): Record<string, unknown> {
    return { ...(this as object), argsHash: this.argsHash };
  }
}

/**
 * The frozen request for the call's current args; reused until the args change (edit then approve).
 * Its `now` is when the call started, as the system clock read then, when no step has waited since
 * (the call is still in its first tick); else the clock is read now.
 */
export function requestOf(call: Call, now: () => number): ToolRequest {
  const cached = call.request;
  if (cached !== undefined && cached.args === call.args) return cached;
  const wall = call.wallStart;
  const request = new CallRequest(
    call,
    cached === undefined && !call.waited && !Number.isNaN(wall) ? wall : now(),
  );
  call.request = request;
  return request;
}

/**
 * The second argument of the wrapped function (the public `ToolCallOptions`). Its signal is created
 * on first read (see LazyAbort): most tools never read it.
 */
export class LazyToolCallOptions implements ToolCallOptions {
  readonly callId: string;
  declare readonly parentCallId?: string;
  readonly context: DeepReadonly<ToolContext>;
  declare readonly obligations?: Readonly<Obligations>;
  readonly secrets: Readonly<Record<string, string>>;
  readonly #abort: LazyAbort;

  constructor(call: Call, abort: LazyAbort, obligations: Obligations | undefined) {
    this.callId = call.callId;
    if (call.parentCallId !== undefined) (this as { parentCallId?: string }).parentCallId = call.parentCallId;
    this.context = call.context;
    if (obligations !== undefined) (this as { obligations?: Obligations }).obligations = obligations;
    this.secrets = call.secrets;
    this.#abort = abort;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }
}

/** An AbortSignal or one that behaves as one (another realm's, a polyfill's): read without throwing. */
function isAbortSignal(value: unknown): value is AbortSignal {
  if (typeof value !== 'object' || value === null) return false;
  const signal = value as Partial<AbortSignal>;
  return (
    typeof signal.aborted === 'boolean' &&
    typeof signal.addEventListener === 'function' &&
    typeof signal.removeEventListener === 'function'
  );
}
