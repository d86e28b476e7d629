/**
 * The scenario suite every framework adapter runs (AI SDK, LangChain, OpenAI Agents, MCP): one
 * policy, one approver, one audit sink, and the same calls, so behaviour is identical across
 * frameworks. An adapter supplies a driver that turns the framework-neutral tools into its own,
 * guards them with its adapter, and runs one model turn (with the framework's own test model)
 * that issues the given call.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type ApprovalResponse,
  type AuditEvent,
  callbackApprover,
  createGuard,
  type Guard,
  type JsonObject,
  type JsonValue,
  memoryAudit,
  rules,
  type ToolContext,
} from '../../src/index.ts';

/** A framework-neutral tool: name (valid in every framework), description, zod schema, execute. */
export interface ScenarioTool {
  /** Used as the framework's tool name and as the toolgate name. */
  readonly name: string;
  readonly description: string;
  /** A zod 4 object schema: a Standard Schema, and `z.toJSONSchema()` gives its JSON Schema. */
  readonly schema: z.ZodObject;
  readonly execute: (args: JsonObject, options: { signal?: AbortSignal | undefined }) => Promise<JsonValue>;
}

/** One model-issued call. */
export interface ScenarioCall {
  readonly tool: string;
  readonly args: JsonObject;
  /** Abort signal to hand to the framework's run (the abort scenario). */
  readonly signal?: AbortSignal;
}

/** What came back from the run. */
export interface ScenarioOutcome {
  /** The tool result the model was shown next, as text. */
  readonly modelSaw?: string;
  /** Set when the run itself rejected (allowed for the abort scenario only). */
  readonly error?: unknown;
}

/** What a driver gets to build its tools. */
export interface ScenarioSetup {
  readonly tg: Guard;
  readonly tools: readonly ScenarioTool[];
  /** Host identity; drivers may pass it through their adapter's context option (the suite also sets it with `tg.withContext`). */
  readonly context: ToolContext;
  /**
   * Set by the context-function scenario: drivers whose adapter takes a context function
   * (`contextFunction: true`) pass it as that option.
   */
  readonly contextFunction?: (info: never) => ToolContext | undefined;
}

/** An adapter-specific driver. */
export interface ScenarioDriver {
  readonly name: string;
  /** Its adapter takes a context function (the MCP client takes a fixed context only). */
  readonly contextFunction?: boolean;
  run(setup: ScenarioSetup, call: ScenarioCall): Promise<ScenarioOutcome>;
}

/** The one policy of the suite. */
export const SCENARIO_POLICY = [
  { id: 'lookups', effect: 'allow', tool: 'lookup_order' },
  { id: 'reports', effect: 'allow', tool: 'export_report' },
  { id: 'refunds-need-a-human', effect: 'ask', tool: 'refund_payment', reason: 'refunds need a human' },
  { id: 'no-deletes', effect: 'deny', tool: 'delete_*', reason: 'deleting orders is not allowed' },
] as const;

export const SCENARIO_CONTEXT: ToolContext = Object.freeze({ agent: 'scenario-bot', principal: 'user:42' });

type ApproverMode =
  | { type: 'approve' }
  | { type: 'deny'; reason: string }
  | { type: 'edit'; args: JsonObject };

/** A fresh guard, approver, audit sink and tools with spies. */
export function createScenarioHarness() {
  const audit = memoryAudit();
  const approver = { mode: { type: 'approve' } as ApproverMode, requests: 0 };
  const tg = createGuard({
    policy: rules(SCENARIO_POLICY.map((rule) => ({ ...rule }))),
    approver: callbackApprover((request): ApprovalResponse => {
      approver.requests += 1;
      const mode = approver.mode;
      if (mode.type === 'deny')
        return { requestId: request.id, approved: false, approver: 'ops:alice', reason: mode.reason };
      if (mode.type === 'edit')
        return { requestId: request.id, approved: true, approver: 'ops:alice', args: mode.args };
      return { requestId: request.id, approved: true, approver: 'ops:alice' };
    }),
    audit,
  });
  const calls: Record<string, JsonObject[]> = {};
  const record = (name: string, args: JsonObject) => {
    const list = calls[name] ?? [];
    list.push(args);
    calls[name] = list;
  };
  const report = { started: () => {}, signal: undefined as AbortSignal | undefined };
  const tools: ScenarioTool[] = [
    {
      name: 'lookup_order',
      description: 'Looks up an order by id.',
      schema: z.object({ orderId: z.string() }),
      execute: async (args) => {
        record('lookup_order', args);
        return { orderId: args.orderId ?? null, status: 'shipped' };
      },
    },
    {
      name: 'refund_payment',
      description: 'Refunds (part of) an order.',
      schema: z.object({ orderId: z.string(), amount: z.number() }),
      execute: async (args) => {
        record('refund_payment', args);
        return `refunded ${String(args.amount)} on ${String(args.orderId)}`;
      },
    },
    {
      name: 'delete_order',
      description: 'Deletes an order.',
      schema: z.object({ orderId: z.string() }),
      execute: async (args) => {
        record('delete_order', args);
        return 'deleted';
      },
    },
    {
      name: 'export_report',
      description: 'Exports a long report.',
      schema: z.object({ month: z.string() }),
      execute: (args, options) => {
        record('export_report', args);
        report.signal = options.signal;
        return new Promise((resolve) => {
          // A safety net only: the abort scenario aborts as soon as the tool starts.
          const timer = setTimeout(() => resolve('finished'), 5_000);
          options.signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve('stopped');
          });
          report.started();
        });
      },
    },
  ];
  return { tg, audit, approver, calls, tools, report };
}

function eventsOf(events: readonly AuditEvent[], type: AuditEvent['type']) {
  return events.filter((event) => event.type === type) as (AuditEvent & Record<string, unknown>)[];
}

/** Registers the shared scenarios for one adapter (call it inside a test file). */
export function runAdapterScenarios(driver: ScenarioDriver): void {
  describe(`adapter scenarios: ${driver.name}`, () => {
    async function run(
      h: ReturnType<typeof createScenarioHarness>,
      call: ScenarioCall,
      more: Partial<ScenarioSetup> = {},
    ) {
      const setup: ScenarioSetup = { tg: h.tg, tools: h.tools, context: SCENARIO_CONTEXT, ...more };
      return h.tg.withContext(SCENARIO_CONTEXT, () => driver.run(setup, call));
    }

    it('allow: the tool runs once with the model args, and the model sees its result', async () => {
      const h = createScenarioHarness();
      const outcome = await run(h, { tool: 'lookup_order', args: { orderId: 'o-1' } });
      expect(outcome.error).toBeUndefined();
      expect(h.calls.lookup_order).toEqual([{ orderId: 'o-1' }]);
      expect(outcome.modelSaw).toContain('shipped');
      const [decision, ...more] = eventsOf(h.audit.events, 'decision');
      expect(more).toEqual([]);
      expect(decision).toMatchObject({ tool: 'lookup_order', decision: 'allow', rules: ['lookups'] });
      expect(decision).toMatchObject({ agent: 'scenario-bot', principal: 'user:42' });
      expect(eventsOf(h.audit.events, 'result')).toMatchObject([{ outcome: 'ok' }]);
    });

    it('deny: the tool never runs and the model reads the denial', async () => {
      const h = createScenarioHarness();
      const outcome = await run(h, { tool: 'delete_order', args: { orderId: 'o-1' } });
      expect(outcome.error).toBeUndefined();
      expect(h.calls.delete_order).toBeUndefined();
      expect(outcome.modelSaw).toContain('DENIED_BY_RULE');
      expect(outcome.modelSaw).toContain('deleting orders is not allowed');
      expect(eventsOf(h.audit.events, 'decision')).toMatchObject([
        { tool: 'delete_order', decision: 'deny', code: 'DENIED_BY_RULE', principal: 'user:42' },
      ]);
      expect(eventsOf(h.audit.events, 'result')).toEqual([]);
    });

    it('ask → approve: the approver is asked once, then the tool runs once', async () => {
      const h = createScenarioHarness();
      const outcome = await run(h, { tool: 'refund_payment', args: { orderId: 'o-1', amount: 250 } });
      expect(outcome.error).toBeUndefined();
      expect(h.approver.requests).toBe(1);
      expect(h.calls.refund_payment).toEqual([{ orderId: 'o-1', amount: 250 }]);
      expect(outcome.modelSaw).toContain('refunded 250 on o-1');
      expect(eventsOf(h.audit.events, 'approval-response')).toMatchObject([
        { approved: true, approver: 'ops:alice' },
      ]);
      expect(eventsOf(h.audit.events, 'decision')).toMatchObject([
        { decision: 'allow', policyDecision: 'ask', approvers: ['ops:alice'] },
      ]);
    });

    it('ask → deny: the tool never runs and the model reads the approver’s reason', async () => {
      const h = createScenarioHarness();
      h.approver.mode = { type: 'deny', reason: 'not this month' };
      const outcome = await run(h, { tool: 'refund_payment', args: { orderId: 'o-1', amount: 250 } });
      expect(outcome.error).toBeUndefined();
      expect(h.calls.refund_payment).toBeUndefined();
      expect(outcome.modelSaw).toContain('APPROVAL_DENIED');
      expect(eventsOf(h.audit.events, 'decision')).toMatchObject([
        { decision: 'deny', policyDecision: 'ask', code: 'APPROVAL_DENIED' },
      ]);
    });

    it('edited args: the tool runs with the arguments the approver edited, not the model’s', async () => {
      const h = createScenarioHarness();
      h.approver.mode = { type: 'edit', args: { orderId: 'o-1', amount: 100 } };
      const outcome = await run(h, { tool: 'refund_payment', args: { orderId: 'o-1', amount: 250 } });
      expect(outcome.error).toBeUndefined();
      expect(h.calls.refund_payment).toEqual([{ orderId: 'o-1', amount: 100 }]);
      expect(outcome.modelSaw).toContain('refunded 100 on o-1');
      expect(eventsOf(h.audit.events, 'approval-response')).toMatchObject([{ approved: true, edited: true }]);
    });

    if (driver.contextFunction === true)
      it('a context function that throws: denied INVALID_CONTEXT and recorded; the tool never runs', async () => {
        const h = createScenarioHarness();
        const contextFunction = () => {
          throw new Error('session store unreachable');
        };
        const outcome = await run(h, { tool: 'lookup_order', args: { orderId: 'o-1' } }, { contextFunction });
        expect(h.calls.lookup_order).toBeUndefined();
        expect(eventsOf(h.audit.events, 'decision')).toMatchObject([
          { tool: 'lookup_order', decision: 'deny', code: 'INVALID_CONTEXT' },
        ]);
        expect(String(eventsOf(h.audit.events, 'decision')[0]?.reason)).toMatch(/context function threw/);
        expect(eventsOf(h.audit.events, 'result')).toEqual([]);
        // The model reads the denial, as for any other (a framework that throws it shows it too).
        expect(outcome.modelSaw ?? String(outcome.error)).toContain('INVALID_CONTEXT');
      });

    it('abort: aborting the run aborts the running tool and records a cancelled result', async () => {
      const h = createScenarioHarness();
      const controller = new AbortController();
      h.report.started = () => controller.abort(new Error('user pressed stop'));
      const outcome = await run(h, {
        tool: 'export_report',
        args: { month: '2026-10' },
        signal: controller.signal,
      });
      expect(h.calls.export_report).toEqual([{ month: '2026-10' }]);
      expect(h.report.signal?.aborted).toBe(true);
      expect(eventsOf(h.audit.events, 'result')).toMatchObject([{ outcome: 'cancelled' }]);
      // Frameworks differ here: the run rejects, or the model is told the call was cancelled.
      if (outcome.error === undefined) expect(outcome.modelSaw).toContain('CANCELLED');
    });
  });
}
