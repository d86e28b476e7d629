import { hashJson } from './_internal/canonical.ts';
import type { LazyAbort } from './_internal/lazy-abort.ts';
import type { OutputCut } from './limits/output.ts';
import type { LimitLease } from './limits/step.ts';
import type { DeepReadonly, JsonObject, Obligations, ToolContext, ToolInfo, ToolRequest } from './types.ts';

// The per-call objects of the pipeline (src/pipeline.ts). Classes rather than object literals:
// V8 builds literals with accessors through a slow runtime path, and these are made on every call.

/** Per-call state shared by the steps and the audit events. */
export class Call {
  eventSeq = 0;
  args: DeepReadonly<JsonObject> | undefined;
  private hashedArgs: unknown;
  private hash = '';
  policyVersion: string | undefined;
  approvers: readonly string[] | undefined;
  /** Paths of the `redact` obligation, applied to the recorded output. */
  redactPaths: readonly string[] | undefined;
  /** Slots and reservations taken by the limits step; released once, when the call settles. */
  lease: LimitLease | undefined;
  /** How many times the limits step admitted this call (twice after an approver's edit). */
  admissions = 0;
  /** What the output caps (`maxRows`, `maxBytes`) cut from the result. */
  outputCut: OutputCut | undefined;

  constructor(
    readonly callId: string,
    readonly parentCallId: string | undefined,
    readonly depth: number,
    readonly tool: ToolInfo,
    readonly toolCallId: string | undefined,
    public context: DeepReadonly<ToolContext>,
    readonly startedAt: number,
  ) {}

  /** Redacted copies for records, cached per value (see Pipeline.recordedArgs). */
  recordedArgsOf: unknown;
  recordedArgs: DeepReadonly<JsonObject> | undefined;
  recordedAttributesOf: unknown;
  recordedAttributes: DeepReadonly<JsonObject> | undefined;

  /** The request handed to engines for the current args (see Pipeline.request). */
  request: CallRequest | undefined;

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

/** The second argument of the wrapped function (`ToolCallOptions`); the signal is created on first read. */
export class ToolOptions {
  readonly callId: string;
  declare readonly parentCallId?: string;
  readonly context: DeepReadonly<ToolContext>;
  declare readonly obligations?: Readonly<Obligations>;
  readonly #abort: LazyAbort;

  constructor(call: Call, abort: LazyAbort, obligations: Obligations | undefined) {
    this.callId = call.callId;
    if (call.parentCallId !== undefined) (this as { parentCallId?: string }).parentCallId = call.parentCallId;
    this.context = call.context;
    if (obligations !== undefined) (this as { obligations?: Obligations }).obligations = obligations;
    this.#abort = abort;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }
}
