/**
 * The conformance suite across entry points (issue 16, "One conformance suite across entry
 * points"): the same scenarios, run through every way into the guard, must leave the same audit
 * trail (event types and codes), a log `toolgate audit verify` accepts, the same deny code, and a
 * denial the model reads in the framework's own shape. Each entry point supplies a driver; where a
 * scenario cannot apply to it, its driver says why in `notApplicable` (listed in docs/testing.md),
 * and the suite registers that as a test of its own, never a silent skip.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { run as auditCli } from '../../src/cli/audit.ts';
import {
  type ApprovalProvider,
  type ApprovalResponse,
  callbackApprover,
  createGuard,
  type DenialDetail,
  type DenyCode,
  type Guard,
  type JsonObject,
  type JsonValue,
  jsonlAudit,
  rules,
  type ToolContext,
} from '../../src/index.ts';

/** The scenarios, by name. */
export const SCENARIOS = [
  'allow',
  'deny by default',
  'deny by rule',
  'ask -> approve',
  'ask -> reject',
  'ask -> edit -> approve, re-decided',
  'approval timeout',
  'rate limit',
  'kill switch',
  'tool throws',
  'tool timeout',
  'cancellation',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** A framework-neutral tool of the suite. */
export interface SuiteTool {
  readonly name: string;
  readonly description: string;
  readonly schema: z.ZodObject;
  readonly execute: (args: JsonObject, options: { signal?: AbortSignal | undefined }) => Promise<JsonValue>;
}

/** One model-issued call. */
export interface SuiteCall {
  readonly tool: string;
  readonly args: JsonObject;
  readonly signal?: AbortSignal;
}

/** What an entry point gave back for one call. */
export interface SuiteOutcome {
  /** The tool result (or denial) the model was shown, as text. */
  readonly modelSaw?: string;
  /** The run (or call) rejected with this. */
  readonly error?: unknown;
  /** The raw value an in-process call resolved with (the guarded function). */
  readonly value?: unknown;
}

/** Everything one scenario run has. */
export interface Harness {
  readonly tg: Guard;
  readonly tools: readonly SuiteTool[];
  readonly context: ToolContext;
  readonly auditPath: string;
  /** Calls that reached a tool, by tool name. */
  readonly calls: Record<string, JsonObject[]>;
  /** Set by the cancellation scenario: called when the slow export starts. */
  started: () => void;
  /** How the person answers this scenario's approval (drivers of a framework's own approval flow read it). */
  readonly mode: ApproverMode;
}

/** An entry point: how a call gets in, and what a denial looks like to the model there. */
export interface EntryPoint {
  readonly name: string;
  /** Scenarios that cannot apply here, with the reason (the table in docs/testing.md). */
  readonly notApplicable?: Partial<Record<ScenarioName, string>>;
  /**
   * Scenarios whose audit trail differs here, with the trail it leaves and why (known gaps of the
   * framework, listed in docs/testing.md): asserted as they are, so a change is noticed.
   */
  readonly differs?: Partial<
    Record<ScenarioName, { readonly trail: readonly string[]; readonly why: string }>
  >;
  run(h: Harness, call: SuiteCall): Promise<SuiteOutcome>;
  /** The guard's approver, for entry points whose framework asks the person itself. @default the suite's scripted approver */
  approver?(): ApprovalProvider;
  /** Asserts that the model read a denial with `code`, in this framework's own shape. */
  expectDenial(outcome: SuiteOutcome, code: DenyCode): void;
  /** Asserts that the model read the tool's own failure (`tool throws`). */
  expectToolError(outcome: SuiteOutcome): void;
  /** Asserts that the model read the tool's result. */
  expectResult(outcome: SuiteOutcome, text: string): void;
}

/** The one policy of the suite (rule ids are what the records name). */
export const SUITE_POLICY = [
  { id: 'lookups', effect: 'allow', tool: 'lookup_order' },
  { id: 'refund-small', effect: 'allow', tool: 'refund_payment', when: { 'args.amount': { lte: 100 } } },
  {
    id: 'refund-large',
    effect: 'ask',
    tool: 'refund_payment',
    when: { 'args.amount': { gt: 100 } },
    reason: 'large refunds need a human',
    approval: { timeout: '150ms' },
  },
  { id: 'no-deletes', effect: 'deny', tool: 'delete_order', reason: 'deleting orders is not allowed' },
  { id: 'limited', effect: 'allow', tool: 'limited_lookup', limit: { rate: '1/1m' } },
  { id: 'flaky', effect: 'allow', tool: 'flaky_tool' },
  { id: 'slow', effect: 'allow', tool: 'slow_tool', obligations: { timeout: '100ms' } },
  { id: 'exports', effect: 'allow', tool: 'export_report' },
] as const;

export const SUITE_CONTEXT: ToolContext = Object.freeze({ agent: 'suite-bot', principal: 'user:42' });

export type ApproverMode = 'approve' | 'reject' | 'edit' | 'hang';

/** A fresh guard (jsonl audit file, scripted approver) and the suite's tools. */
export function createHarness(
  approver: ApproverMode = 'approve',
  provider?: ApprovalProvider,
  denialDetail?: DenialDetail,
): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'tg-entry-'));
  const auditPath = join(dir, 'audit.jsonl');
  const tg = createGuard({
    ...(denialDetail === undefined ? {} : { denialDetail }),
    policy: rules(SUITE_POLICY.map((rule) => structuredClone(rule) as never)),
    audit: jsonlAudit({ path: auditPath }),
    approver:
      provider ??
      callbackApprover(
        (request, { signal }): Promise<ApprovalResponse> | ApprovalResponse => {
          if (approver === 'hang')
            return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
          if (approver === 'reject')
            return {
              requestId: request.id,
              approved: false,
              approver: 'ops:alice',
              reason: 'not this month',
            };
          if (approver === 'edit')
            return {
              requestId: request.id,
              approved: true,
              approver: 'ops:alice',
              args: { orderId: 'o-1', amount: 50 },
            };
          return { requestId: request.id, approved: true, approver: 'ops:alice' };
        },
        { name: 'scripted' },
      ),
  });
  const calls: Record<string, JsonObject[]> = {};
  const record = (name: string, args: JsonObject) => {
    calls[name] = [...(calls[name] ?? []), args];
  };
  const tools: SuiteTool[] = [];
  const h: Harness = {
    tg,
    tools,
    context: SUITE_CONTEXT,
    auditPath,
    calls,
    started: () => {},
    mode: approver,
  };
  const orderId = z.object({ orderId: z.string() });
  const tool = (name: string, schema: z.ZodObject, execute: SuiteTool['execute']): SuiteTool => ({
    name,
    description: `The ${name.replace('_', ' ')} tool.`,
    schema,
    execute: async (args, options) => {
      record(name, args);
      return execute(args, options);
    },
  });
  const waitForAbort = (signal: AbortSignal | undefined, onStart?: () => void) =>
    new Promise<JsonValue>((resolve) => {
      const timer = setTimeout(() => resolve('finished'), 5_000);
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve('stopped');
      });
      onStart?.();
    });
  tools.push(
    tool('lookup_order', orderId, async (args) => ({ orderId: args.orderId ?? null, status: 'shipped' })),
    tool('limited_lookup', orderId, async () => 'found it'),
    tool('delete_order', orderId, async () => 'deleted'),
    tool('wipe_disk', z.object({ disk: z.string() }), async () => 'wiped'),
    tool(
      'refund_payment',
      z.object({ orderId: z.string(), amount: z.number() }),
      async (args) => `refunded ${String(args.amount)} on ${String(args.orderId)}`,
    ),
    tool('flaky_tool', orderId, async () => {
      throw new Error('the warehouse API is down');
    }),
    tool('slow_tool', orderId, (_args, options) => waitForAbort(options.signal)),
    tool('export_report', z.object({ month: z.string() }), (_args, options) =>
      waitForAbort(options.signal, () => h.started()),
    ),
  );
  return h;
}

/** One event of the trail as the suite compares it: its type, and its code or outcome. */
export function trailOf(events: readonly Record<string, unknown>[]): string[] {
  return events.map((event) => {
    const type = String(event.type);
    if (type === 'decision')
      return event.decision === 'deny' ? `decision deny ${String(event.code)}` : 'decision allow';
    if (type === 'result') return `result ${String(event.outcome)}`;
    if (type === 'approval-response')
      return `approval-response ${event.approved === true ? 'approved' : event.approved === false ? 'rejected' : String(event.code)}`;
    if (type === 'suspension') return `suspension ${String(event.action)}`;
    return type;
  });
}

/** The events of a hash-chained jsonl audit file (each line wraps one; the chain's own lines carry none). */
export function readTrail(path: string): Record<string, unknown>[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { event?: Record<string, unknown> }).event)
    .filter((event): event is Record<string, unknown> => event !== undefined);
}

/** `toolgate audit verify <file>` (the CLI's own code, in process): its exit code. */
export async function auditVerify(path: string): Promise<number> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  const error = vi.spyOn(console, 'error').mockImplementation(() => {});
  try {
    return await auditCli(['verify', path]);
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

/** What every entry point must show for one scenario. */
export interface Expectation {
  /** The audit trail, in order (see `trailOf`). */
  readonly trail: readonly string[];
  /** The deny code the model reads, for scenarios that end denied. */
  readonly code?: DenyCode;
  /** The tool's calls, by tool. */
  readonly ran: Record<string, JsonObject[]>;
}

/** The expected trail and code of each scenario: the same at every entry point. */
export const EXPECTED: Record<ScenarioName, Expectation> = {
  allow: { trail: ['decision allow', 'result ok'], ran: { lookup_order: [{ orderId: 'o-1' }] } },
  'deny by default': { trail: ['decision deny NO_MATCHING_RULE'], code: 'NO_MATCHING_RULE', ran: {} },
  'deny by rule': { trail: ['decision deny DENIED_BY_RULE'], code: 'DENIED_BY_RULE', ran: {} },
  'ask -> approve': {
    trail: ['approval-request', 'approval-response approved', 'decision allow', 'result ok'],
    ran: { refund_payment: [{ orderId: 'o-1', amount: 250 }] },
  },
  'ask -> reject': {
    trail: ['approval-request', 'approval-response rejected', 'decision deny APPROVAL_DENIED'],
    code: 'APPROVAL_DENIED',
    ran: {},
  },
  'ask -> edit -> approve, re-decided': {
    trail: ['approval-request', 'approval-response approved', 'decision allow', 'result ok'],
    ran: { refund_payment: [{ orderId: 'o-1', amount: 50 }] },
  },
  'approval timeout': {
    trail: ['approval-request', 'approval-response APPROVAL_TIMEOUT', 'decision deny APPROVAL_TIMEOUT'],
    code: 'APPROVAL_TIMEOUT',
    ran: {},
  },
  'rate limit': {
    trail: ['decision allow', 'result ok', 'decision deny RATE_LIMITED'],
    code: 'RATE_LIMITED',
    ran: { limited_lookup: [{ orderId: 'o-1' }] },
  },
  'kill switch': {
    trail: ['suspension suspend', 'decision deny SUSPENDED'],
    code: 'SUSPENDED',
    ran: {},
  },
  'tool throws': { trail: ['decision allow', 'result error'], ran: { flaky_tool: [{ orderId: 'o-1' }] } },
  'tool timeout': {
    trail: ['decision allow', 'result timeout'],
    code: 'TIMEOUT',
    ran: { slow_tool: [{ orderId: 'o-1' }] },
  },
  cancellation: {
    trail: ['decision allow', 'result cancelled'],
    code: 'CANCELLED',
    ran: { export_report: [{ month: '2026-10' }] },
  },
};

const APPROVER: Partial<Record<ScenarioName, ApproverMode>> = {
  'ask -> reject': 'reject',
  'ask -> edit -> approve, re-decided': 'edit',
  'approval timeout': 'hang',
};

/** Runs one scenario through an entry point; returns the (last) outcome. */
async function play(entry: EntryPoint, scenario: ScenarioName, h: Harness): Promise<SuiteOutcome> {
  const call = (tool: string, args: JsonObject, signal?: AbortSignal) =>
    h.tg.withContext(h.context, () =>
      entry.run(h, signal === undefined ? { tool, args } : { tool, args, signal }),
    );
  switch (scenario) {
    case 'allow':
      return call('lookup_order', { orderId: 'o-1' });
    case 'deny by default':
      return call('wipe_disk', { disk: 'sda' });
    case 'deny by rule':
      return call('delete_order', { orderId: 'o-1' });
    case 'ask -> approve':
    case 'ask -> reject':
    case 'ask -> edit -> approve, re-decided':
    case 'approval timeout':
      return call('refund_payment', { orderId: 'o-1', amount: 250 });
    case 'rate limit': {
      const first = await call('limited_lookup', { orderId: 'o-1' });
      entry.expectResult(first, 'found it');
      return call('limited_lookup', { orderId: 'o-1' });
    }
    case 'kill switch':
      await h.tg.suspend({ tool: 'lookup_order', reason: 'incident 42' });
      return call('lookup_order', { orderId: 'o-1' });
    case 'tool throws':
      return call('flaky_tool', { orderId: 'o-1' });
    case 'tool timeout':
      return call('slow_tool', { orderId: 'o-1' });
    case 'cancellation': {
      const controller = new AbortController();
      h.started = () => controller.abort(new Error('user pressed stop'));
      return call('export_report', { month: '2026-10' }, controller.signal);
    }
  }
}

/** Registers every scenario for one entry point. */
export function conformance(entry: EntryPoint): void {
  describe(`entry point: ${entry.name}`, () => {
    for (const scenario of SCENARIOS) {
      const reason = entry.notApplicable?.[scenario];
      if (reason !== undefined) {
        it(`${scenario}: does not apply (${reason})`, () => {
          expect(reason.length).toBeGreaterThan(10);
        });
        continue;
      }
      const differs = entry.differs?.[scenario];
      it(differs === undefined ? scenario : `${scenario} (differs: ${differs.why})`, async () => {
        const h = createHarness(APPROVER[scenario], entry.approver?.());
        const expected = EXPECTED[scenario];
        const outcome = await play(entry, scenario, h);
        await h.tg.close();
        // The model's view: the tool's result, its own error, or toolgate's denial in the native shape.
        if (expected.code !== undefined) entry.expectDenial(outcome, expected.code);
        else if (scenario === 'tool throws') entry.expectToolError(outcome);
        else entry.expectResult(outcome, scenario === 'allow' ? 'shipped' : 'refunded');
        expect(h.calls).toEqual(expected.ran);
        expect(trailOf(readTrail(h.auditPath))).toEqual(differs?.trail ?? expected.trail);
        expect(await auditVerify(h.auditPath)).toBe(0);
      });
    }
  });
}
