import { errorParts } from '../../_internal/describe-error.ts';
import { dropPromise } from '../../_internal/fail-closed.ts';
import { INVISIBLE_CHARACTER, toolNameProblem } from '../../_internal/names.ts';
import { refusingSchema } from '../../_internal/validate.ts';
import { ConfigurationError } from '../../errors.ts';
import type { CallOptions, DenialDetail, Guard, OnDeny } from '../../guard-types.ts';
import type { StandardSchemaV1 } from '../../standard-schema.ts';
import type { JsonObject, ToolContext, ToolDenial } from '../../types.ts';
import { type DenialParts, denialFromError, denialMessage, detailOf } from '../_shared/denials.ts';
import { mcpInputSchema } from './input-schema.ts';
import { errorResult } from './json-rpc.ts';
import { memoryPins, type PinStore, toolPin } from './pins.ts';
import type { McpCallToolResult, McpTool } from './types.ts';

/** How tool definitions are pinned. */
export interface PinningOptions {
  /**
   * Where approved pins live. Default: in memory, so a definition that changes while the process
   * runs is denied. Pass `filePins(path)` to keep pins across runs.
   */
  pins?: PinStore;
  /**
   * `'tofu'` (trust on first use, the default): a tool seen for the first time is pinned as it is.
   * `'strict'`: a tool without an approved pin is hidden and denied.
   * `'update'`: every listed definition is approved as it is (re-approval, after a review).
   * @default 'tofu'
   */
  pinning?: 'tofu' | 'strict' | 'update';
  /** Called when a listed definition differs from its pin (or is unpinned in strict mode). */
  onPinMismatch?: (event: PinMismatch) => void;
}

/** A tool whose listed definition is not the approved one. */
export interface PinMismatch {
  readonly server: string | undefined;
  readonly tool: string;
  /** The approved pin, or undefined when the tool was never approved (strict mode). */
  readonly pinned: string | undefined;
  /** The pin of the definition the server lists now. */
  readonly current: string;
}

/** Options shared by the MCP adapters. */
export interface McpGateOptions extends PinningOptions {
  /**
   * The server's name for policies: tools are guarded as `<server>.<tool>` when set, else by their
   * MCP name alone.
   */
  server?: string;
}

/** The outcome of a gated `tools/call`. */
export type GateOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      readonly result: McpCallToolResult;
      /** The denial; absent when the tool itself answered with an error. */
      readonly denial?: ToolDenial;
    };

interface Entry {
  readonly tool: McpTool;
  readonly pin: string;
  readonly input: StandardSchemaV1;
}

/**
 * Boxes a forwarded result so it can never be mistaken for a toolgate denial. Serializes (for the
 * audit trail) as the tool's result.
 */
class Forwarded<T> {
  constructor(
    readonly value: T,
    private readonly view: unknown,
  ) {}
  toJSON(): unknown {
    return this.view;
  }
}

/**
 * A tool result with `isError: true`, thrown inside the guard so the call is recorded as the
 * tool's error (outcome `error`, its text as the message), as a tool that throws is at every
 * other entry point. The guard gives a tool's error back redacted (and scrubbed of secrets), so
 * the client gets an `isError` result of that text: its text blocks, joined.
 */
class ForwardedError extends Error {
  constructor(result: unknown) {
    super(errorText(result));
    this.name = 'McpToolError';
  }
}

/** The text of an `isError` result, as the error's message. */
function errorText(value: unknown): string {
  const content = (value as { content?: unknown }).content;
  const text = Array.isArray(content)
    ? content
        .map((block) => (typeof block?.text === 'string' ? block.text : ''))
        .filter((part) => part !== '')
        .join('\n')
    : '';
  return text === '' ? 'the tool answered with isError' : text;
}

/** Whether a forwarded value is a tool result that reports an error. */
function isErrorResult(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { isError?: unknown }).isError === true;
}

const MAX_PAGES = 1000;

/**
 * The MCP side of the guard, shared by `guardMcpServer`, `guardMcpClient` and the stdio proxy: keeps
 * the catalog of tool definitions a server lists, checks them against their pins, and sends each
 * `tools/call` through the guard with the pinned input schema. Annotations are never consulted.
 */
export class McpGate {
  private readonly catalog = new Map<string, Entry>();
  private stale = true;
  private refreshing: Promise<void> | undefined;
  private readonly pins: PinStore;
  private readonly strict: boolean;
  private readonly update: boolean;

  constructor(
    private readonly tg: Guard<OnDeny>,
    private readonly options: McpGateOptions,
    private readonly listPage: (
      cursor: string | undefined,
    ) => Promise<{ tools: unknown; nextCursor?: unknown }>,
  ) {
    checkServerName(options.server);
    this.pins = options.pins ?? memoryPins();
    this.strict = options.pinning === 'strict';
    this.update = options.pinning === 'update';
  }

  /** The name policies see for an MCP tool. */
  qualify(tool: string): string {
    return this.options.server === undefined ? tool : `${this.options.server}.${tool}`;
  }

  /** Marks the catalog out of date (after `notifications/tools/list_changed`): the next call re-lists. */
  invalidate(): void {
    this.stale = true;
  }

  /**
   * Records listed tools and returns the ones to show: definitions that differ from their pin (or,
   * in strict mode, have none) are left out, the others carry `_meta['toolgate/pin']`.
   */
  observe(tools: unknown): McpTool[] {
    if (!Array.isArray(tools)) return [];
    const shown: McpTool[] = [];
    for (const raw of tools) {
      const tool = asTool(raw);
      if (tool === undefined) continue;
      let pin: string;
      try {
        pin = toolPin(tool);
      } catch {
        continue;
      }
      this.catalog.set(tool.name, { tool, pin, input: mcpInputSchema(tool.name, tool.inputSchema) });
      const server = this.options.server ?? '';
      const approved = this.pins.get(server, tool.name);
      if ((approved === undefined && !this.strict) || (this.update && approved !== pin))
        this.pins.set(server, tool.name, pin);
      else if (approved !== pin) {
        this.report(tool.name, approved, pin);
        continue;
      }
      const meta = isRecord(tool._meta) ? tool._meta : {};
      shown.push({ ...tool, _meta: { ...meta, 'toolgate/pin': pin } });
    }
    return shown;
  }

  /** Lists every page of tools from the server and records them (one listing at a time). */
  refresh(): Promise<void> {
    if (this.refreshing === undefined) {
      this.refreshing = this.listAll().finally(() => {
        this.refreshing = undefined;
      });
    }
    return this.refreshing;
  }

  private async listAll(): Promise<void> {
    this.stale = false;
    try {
      let cursor: string | undefined;
      const seen = new Set<string>();
      for (let page = 0; page < MAX_PAGES; page++) {
        const result = await this.listPage(cursor);
        const tools: unknown = result?.tools;
        this.observe(tools);
        if (Array.isArray(tools)) for (const tool of tools) seen.add(asTool(tool)?.name ?? '');
        if (typeof result?.nextCursor !== 'string' || result.nextCursor === '') {
          // A tool the server no longer lists can no longer be called.
          for (const name of [...this.catalog.keys()]) if (!seen.has(name)) this.catalog.delete(name);
          return;
        }
        cursor = result.nextCursor;
      }
    } catch (error) {
      this.stale = true;
      throw error;
    }
  }

  /**
   * Sends one `tools/call` through the guard. `forward` runs only after an allow, with the frozen
   * arguments that were decided on. Denials (and timeouts or cancellations) come back as an
   * `isError` tool result; any other failure of `forward` is thrown.
   */
  async call<T>(
    name: unknown,
    args: unknown,
    forward: (args: JsonObject, signal: AbortSignal) => Promise<T>,
    options: { context?: ToolContext; signal?: AbortSignal; toolCallId?: string } = {},
    auditView: (value: T) => unknown = (value) => value,
  ): Promise<GateOutcome<T>> {
    // A call to a tool the server does not list (or no usable name at all) is denied UNKNOWN_TOOL
    // and recorded like any call, under one name, so unlisted names cannot grow the guard's registry.
    let refusal: string | undefined;
    // Without a server name, `mcp:<method>` names the other requests (methods.ts): no tool takes it.
    const usable =
      typeof name === 'string' &&
      toolNameProblem(this.qualify(name)) === undefined &&
      !(this.options.server === undefined && name.startsWith('mcp:'));
    if (!usable) refusal = `${describeName(name)} is not a usable tool name`;
    else if (this.stale || !this.catalog.has(name)) {
      try {
        await this.refresh();
      } catch (error) {
        refusal = `the tool list could not be read (${errorParts(error).message})`;
      }
    }
    const entry = usable && refusal === undefined ? this.catalog.get(name) : undefined;
    if (usable && refusal === undefined && entry === undefined)
      refusal = `the server does not list a tool named ${describeName(name)}`;
    const qualified = entry === undefined ? this.qualify(UNLISTED) : this.qualify(name as string);
    // The model is told the name it used; the record keeps it in the reason.
    const shown = usable ? this.qualify(name) : qualified;
    const toolOptions: { name: string; input: StandardSchemaV1; description?: string } = {
      name: qualified,
      input:
        refusal === undefined
          ? this.inputFor(name as string)
          : refusingSchema('UNKNOWN_TOOL', `${refusal}; it may not be called`),
    };
    const description = entry?.tool.description;
    if (typeof description === 'string') toolOptions.description = description;
    const guarded = this.tg.guard(async (frozen: JsonObject, callOptions) => {
      const value = await forward(frozen, callOptions.signal);
      const view = auditView(value);
      if (isErrorResult(view)) throw new ForwardedError(view);
      return new Forwarded(value, view);
    }, toolOptions);
    const callOptions = gateCallOptions(options);
    try {
      const value: unknown = await guarded(args === undefined ? {} : (args as JsonObject), callOptions);
      if (value instanceof Forwarded) return { ok: true, value: value.value as T };
      const denial = value as ToolDenial;
      return { ok: false, result: denialResult({ ...denial, tool: shown }, detailOf(this.tg)), denial };
    } catch (error) {
      if (error instanceof ForwardedError) return { ok: false, result: errorResult(String(error.message)) };
      const denial = denialFromError(error);
      if (denial !== undefined)
        return { ok: false, result: denialResult({ ...denial, tool: shown }, detailOf(this.tg)), denial };
      throw error;
    }
  }

  /** The schema a listed tool's calls are validated with; for a definition not approved, one that refuses. */
  private inputFor(name: string): StandardSchemaV1 {
    const entry = this.catalog.get(name)!;
    const approved = this.pins.get(this.options.server ?? '', name);
    if (approved === undefined)
      return refusing(`the definition of ${name} is not pinned; approve it before calling it`);
    if (approved !== entry.pin) {
      return refusing(
        `the definition of ${name} changed since it was pinned (pinned ${approved.slice(0, 12)}…, now ${entry.pin.slice(0, 12)}…); calls are denied until it is re-approved`,
      );
    }
    return entry.input;
  }

  private report(tool: string, pinned: string | undefined, current: string): void {
    try {
      // An async one's rejection is handled here, never unhandled.
      dropPromise(this.options.onPinMismatch?.({ server: this.options.server, tool, pinned, current }));
    } catch {
      // A reporting callback never changes a decision.
    }
  }
}

/** The guard's call options of a gated request: only those given (the guard reads absent ones as unset). */
export function gateCallOptions(options: {
  context?: ToolContext;
  signal?: AbortSignal;
  toolCallId?: string;
}): CallOptions {
  const callOptions: CallOptions = {};
  if (options.context !== undefined) callOptions.context = options.context;
  if (options.signal !== undefined) callOptions.signal = options.signal;
  if (options.toolCallId !== undefined) callOptions.toolCallId = options.toolCallId;
  return callOptions;
}

/** Throws a ConfigurationError when `server` cannot be the first part of a tool name. */
export function checkServerName(server: string | undefined): void {
  if (server === undefined) return;
  // No dot: `<server>.<tool>` then names one server's tool however many dots the tool name holds
  // (servers `git` and `git.admin` would both own `git.admin.wipe`).
  const problem =
    typeof server !== 'string'
      ? 'it must be a string'
      : server.includes('.')
        ? 'it must not contain a dot (the separator of <server>.<tool>)'
        : toolNameProblem(`${server}.x`);
  if (problem !== undefined)
    throw new ConfigurationError(`the MCP server name ${JSON.stringify(server)} is not usable: ${problem}`);
}

/** The `isError` result the model reads for a denial, as much of it as `denialDetail` allows. */
function denialResult(denial: DenialParts, detail: DenialDetail): McpCallToolResult {
  return errorResult(
    denialMessage(denial, detail).replace(/^toolgate denied /, 'toolgate denied this call to '),
  );
}

function refusing(message: string): StandardSchemaV1 {
  return refusingSchema('INVALID_ARGS', message);
}

/** The name calls to unlisted tools are recorded under (`<server>.(unlisted)`). */
const UNLISTED = '(unlisted)';
const MAX_SHOWN_NAME = 100;
/** Characters a name is shown with as escapes: the invisible ones and separators. */
const SHOWN_ESCAPED = new RegExp(`${INVISIBLE_CHARACTER.source.slice(0, -1)}\\p{Z}]`, 'gu');

/** A name as text safe for the model and the audit trail: quoted, escaped and cut short. */
function describeName(name: unknown): string {
  if (typeof name !== 'string') return name === undefined ? 'a missing name' : `a ${typeof name} as name`;
  const shown = name.length > MAX_SHOWN_NAME ? `${name.slice(0, MAX_SHOWN_NAME)}…` : name;
  // Invisible and control characters are shown as escapes, so the text reads as what was sent.
  return JSON.stringify(shown).replace(SHOWN_ESCAPED, (char) =>
    char === ' ' ? char : `\\u{${char.codePointAt(0)!.toString(16)}}`,
  );
}

function asTool(raw: unknown): McpTool | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const tool = raw as McpTool;
  return typeof tool.name === 'string' ? tool : undefined;
}

function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
