import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ApprovalProvider,
  type ApprovalRequest,
  approvalQueue,
  callbackApprover,
  createGuard,
  type Decision,
  type JsonValue,
  memoryAudit,
  memoryStore,
  queueApprover,
  rules,
  type ToolRequest,
  terminalApprover,
  webhookApprover,
} from '../../src/index.ts';
import { awkwardSecret, forms, secretInText, secretName, secretValue } from './secret-shapes.ts';

// Issue 14, findings 6 and 7, as a property: secrets of every documented shape, placed in every
// field a call has, never show, raw or encoded, in anything the guard hands out: audit records,
// approval requests, emitted events, errors, denials returned to the model, `tg.check()`.

/** A secret as data (`{ [name]: value }` or a string holding it) and as text, with what must never show. */
interface Carrier {
  readonly data: unknown;
  readonly text: string;
  readonly hidden: readonly string[];
}

const carrier: fc.Arbitrary<Carrier> = fc.oneof(
  fc.tuple(secretName, awkwardSecret).map(([name, secret]) => ({
    data: { [name]: secret },
    text: JSON.stringify({ [name]: secret }),
    hidden: forms(secret),
  })),
  secretValue()
    .chain((secret) => secretInText(secret))
    .map(({ text, hidden }) => ({ data: text, text, hidden })),
  awkwardSecret
    .chain((secret) => secretInText(secret, true))
    .map(({ text, hidden }) => ({ data: text, text, hidden })),
);

/** Puts `value` somewhere below a random path of objects and arrays. */
const nested = (value: unknown) =>
  fc
    .array(fc.constantFrom('object', 'array'), { maxLength: 4 })
    .map((path) =>
      path.reduceRight<unknown>(
        (inner, kind) => (kind === 'array' ? ['plain', inner] : { ok: 'plain', inner }),
        value,
      ),
    );

const placed = (c: Carrier) => nested(c.data).map((data) => ({ ...c, data }));

const scenario = fc.record({
  args: carrier.chain(placed),
  attributes: carrier.chain(placed),
  probe: carrier,
  error: carrier,
  result: carrier.chain(placed),
  reason: carrier,
  onDeny: fc.constantFrom('return' as const, 'throw' as const),
});

/** Everything one error shows: message, stack, reason, decision. */
function errorText(error: unknown): string {
  if (!(error instanceof Error)) return JSON.stringify(error) ?? String(error);
  const extra = error as Error & { reason?: unknown; decision?: unknown; cause?: unknown };
  return [error.message, error.stack, JSON.stringify(extra.reason), JSON.stringify(extra.decision)].join(
    '\n',
  );
}

describe('redaction oracle: a real guard with every channel of output', () => {
  it('property: no secret placed in any field shows in any record, request, event, error or denial', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const audit = memoryAudit();
        const requests: ApprovalRequest[] = [];
        const approver = callbackApprover((request) => {
          requests.push(request);
          return request.tool === 'ask.no'
            ? { requestId: request.id, approved: false, approver: 'user:7', reason: s.reason.text }
            : { requestId: request.id, approved: true, approver: 'user:7' };
        });
        const tg = createGuard({
          policy: rules([
            { id: 'allow', effect: 'allow', tool: 'allow.*' },
            { id: 'ask', effect: 'ask', tool: 'ask.*', reason: 'needs a human' },
            { id: 'deny', effect: 'deny', tool: 'deny.*', reason: 'never' },
            {
              id: 'probe',
              effect: 'allow',
              tool: 'cond.*',
              when: (request: ToolRequest) => {
                throw new Error(`cannot judge ${String(request.args.probe)}`);
              },
            },
          ]),
          approver,
          audit: { sinks: [audit], output: { capture: true, maxBytes: 1_000_000 } },
          onDeny: s.onDeny,
        });
        const emitted: unknown[] = [];
        for (const name of [
          'decision',
          'approval-request',
          'approval-response',
          'grant-used',
          'result',
        ] as const)
          tg.on(name, (event) => emitted.push(event));
        const shown: string[] = [];
        const context = {
          principal: 'user:42',
          attributes: { tenant: 'acme', data: s.attributes.data as JsonValue },
        };
        const args = { q: 'plain', data: s.args.data, probe: s.probe.text };
        const run = async (tool: string, fn: () => unknown) => {
          try {
            const value = await tg.guard(fn, { name: tool })(args, { context });
            // A tool's own output goes to the caller as it is; a denial is guard output.
            if (typeof value === 'object' && value !== null && 'denied' in value)
              shown.push(JSON.stringify(value));
          } catch (error) {
            shown.push(errorText(error));
          }
        };
        await run('allow.echo', () => ({ rows: [s.result.data] }));
        await run('allow.fail', () => {
          throw new Error(`upstream failed: ${s.error.text}`);
        });
        await run('ask.ok', () => 'ok');
        await run('ask.no', () => 'never');
        await run('cond.throw', () => 'never');
        await run('deny.rule', () => 'never');
        shown.push(JSON.stringify(await tg.check('cond.throw', args, context)));
        const everything = [
          JSON.stringify(audit.events),
          JSON.stringify(requests),
          JSON.stringify(emitted),
          ...shown,
        ].join('\n');
        // The calls really happened: one decision per call, the approver asked twice.
        expect(audit.events.filter((event) => event.type === 'decision')).toHaveLength(6);
        expect(requests).toHaveLength(2);
        for (const c of [s.args, s.attributes, s.probe, s.error, s.result, s.reason])
          for (const form of c.hidden) expect(everything.includes(form), form).toBe(false);
        await tg.close();
      }),
      { numRuns: 80 },
    );
  });
});

describe('finding 6: approval requests carry context.attributes redacted, on every channel', () => {
  const attributes = {
    tenant: 'acme',
    apiKey: 'attr-secret-one',
    'X-Api-Key': 'attr-secret-two',
    dsn: 'postgres://svc:attr-secret-three@db/app',
  };
  const leaks = (text: string) => text.match(/attr-secret-\w+/g) ?? [];
  // An engine whose reason quotes the call (as engines explaining themselves do).
  const policy = {
    name: 'quoting',
    evaluate: (request: ToolRequest): Decision => ({
      type: 'ask',
      rules: ['r'],
      reason: `check ${String(request.context.attributes?.dsn)}`,
    }),
  };

  async function askThrough(approver: ApprovalProvider, answer?: () => Promise<void>) {
    const tg = createGuard({ policy, approver, onDeny: 'return', defaults: { approvalTimeout: '10s' } });
    const call = tg.guard(() => 'ran', { name: 'payments.refund' })(
      { amount: 5 },
      { context: { principal: 'user:42', attributes } },
    );
    await answer?.();
    return call;
  }

  it('callback: the request shows the attributes redacted and the reason redacted', async () => {
    const seen: ApprovalRequest[] = [];
    await askThrough(
      callbackApprover((request) => {
        seen.push(request);
        return { requestId: request.id, approved: true, approver: 'user:7' };
      }),
    );
    expect(seen).toHaveLength(1);
    expect(leaks(JSON.stringify(seen))).toEqual([]);
    expect(seen[0]!.context.attributes).toEqual({
      tenant: 'acme',
      apiKey: '[REDACTED]',
      'X-Api-Key': '[REDACTED]',
      dsn: 'postgres://[REDACTED]@db/app',
    });
    expect(seen[0]!.context.principal).toBe('user:42');
  });

  it('webhook: the POST to the approval service carries no attribute secret', async () => {
    const bodies: string[] = [];
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(202).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const webhook = webhookApprover({
        url,
        secret: 'a-webhook-secret-that-is-32-bytes-long',
        timeout: '5s',
      });
      const denied = await askThrough(
        callbackApprover(async (request, options) => {
          // Ask the webhook, then give up: only what it was sent matters here.
          const controller = new AbortController();
          const pending = Promise.resolve(webhook.request(request, { signal: controller.signal }));
          pending.catch(() => {});
          while (bodies.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
          controller.abort(new Error('done'));
          options.signal.throwIfAborted();
          return { requestId: request.id, approved: false, approver: 'user:7', reason: 'seen' };
        }),
      );
      expect(denied).toMatchObject({ denied: true, code: 'APPROVAL_DENIED' });
      expect(bodies).toHaveLength(1);
      expect(bodies[0]).toContain('"tenant":"acme"');
      expect(leaks(bodies[0]!)).toEqual([]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('terminal: the prompt shows the reason redacted', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = '';
    output.on('data', (chunk) => {
      printed += String(chunk);
      if (printed.includes('[a]pprove')) input.write('a\n');
    });
    const result = await askThrough(terminalApprover({ input, output, approver: 'ops:1' }));
    expect(result).toBe('ran');
    expect(printed).toContain('reason   check postgres://[REDACTED]@db/app');
    expect(leaks(printed)).toEqual([]);
  });

  it('queue: what another process lists carries the attributes redacted', async () => {
    const store = memoryStore();
    const secret = 'queue-secret-that-is-at-least-32-bytes';
    const queue = approvalQueue({ store, secret });
    const result = await askThrough(queueApprover({ store, secret, pollMs: 20 }), async () => {
      let pending = await queue.list();
      while (pending.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        pending = await queue.list();
      }
      expect(leaks(JSON.stringify(pending))).toEqual([]);
      expect(pending[0]!.request.context.attributes).toMatchObject({ tenant: 'acme', apiKey: '[REDACTED]' });
      await queue.resolve(pending[0]!.id, { approved: true, approver: 'user:7' });
    });
    expect(result).toBe('ran');
  });
});

describe('finding 7 through the guard: args and tool errors reach the result record redacted', () => {
  it('keeps key-name variants, URL and connection-string credentials out of every record', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: rules([{ id: 'all', effect: 'allow', tool: '*' }]), audit });
    const tool = tg.guard(
      () => {
        throw new Error('connect postgres://admin:pw-in-error@db failed; Server=x;Password=pw-in-odbc');
      },
      { name: 'db.query' },
    );
    const error = await tool({
      'Api-Key': 'pw-api-key-1',
      apiKey: 'pw-api-key-2',
      'x-api-key': 'pw-api-key-3',
      API_KEY: 'pw-api-key-4',
      dsn: 'postgres://admin:pw-in-dsn@db/app',
      url: 'https://user:pw-in-url@host/x?password=pw-in-query&token=pw-in-token',
    }).catch((e: unknown) => e as Error);
    const text = JSON.stringify(audit.events);
    expect(text).not.toMatch(/pw-/);
    // The error the caller gets back is redacted the same way, and is the tool's own object.
    expect(error).toBeInstanceOf(Error);
    expect(`${error.message}\n${error.stack}`).not.toMatch(/pw-/);
    expect(error.message).toContain('postgres://[REDACTED]@db');
  });
});
