import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  autoApprove,
  type CallOptions,
  ConfigurationError,
  createGuard,
  type DecisionEvent,
  GuardError,
  guard,
  memoryAudit,
  rules,
  ToolDeniedError,
  ToolInterruptedError,
} from '../../src/index.ts';
import { ALLOW, engine, spyTool } from './helpers.ts';

describe('G1 default deny', () => {
  it('an empty policy denies every call and never runs the tool', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: rules([]), audit });
    const spy = spyTool();
    const tool = tg.guard(spy.fn, { name: 'db.query' });
    const error = await tool({ sql: 'select 1' }).catch((e: unknown) => e);
    expect(ToolDeniedError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'NO_MATCHING_RULE', tool: 'db.query' });
    expect(spy.calls).toHaveLength(0);
    expect(audit.events.map((e) => e.type)).toEqual(['decision']);
  });

  it('check() denies a tool that was never registered', async () => {
    const tg = createGuard({ policy: rules([{ id: 'all', effect: 'allow', tool: '*' }]) });
    await expect(tg.check('nope', {})).resolves.toMatchObject({ type: 'deny', code: 'UNKNOWN_TOOL' });
    await expect(tg.check('bad\u200bname', {})).resolves.toMatchObject({
      type: 'deny',
      code: 'UNKNOWN_TOOL',
    });
  });

  it('createGuard refuses to run without a policy', () => {
    expect(() => createGuard({} as never)).toThrow(ConfigurationError);
    expect(() => createGuard({ policy: { name: 'x' } } as never)).toThrow(/policy engine/);
  });

  it('an ask without an approver denies with NO_APPROVER', async () => {
    const tg = createGuard({ policy: rules([{ id: 'k', effect: 'ask', tool: 'pay' }]) });
    const spy = spyTool();
    await expect(tg.guard(spy.fn, { name: 'pay' })({})).rejects.toMatchObject({ code: 'NO_APPROVER' });
    expect(spy.calls).toHaveLength(0);
  });
});

describe('G10 complete mediation and G11 one decision record', () => {
  const cases = [
    { name: 'allow', policy: ALLOW, runs: true },
    {
      name: 'deny',
      policy: { type: 'deny', rules: ['d'], code: 'DENIED_BY_RULE', reason: 'no' },
      runs: false,
    },
    { name: 'ask+approve', policy: { type: 'ask', rules: ['k'], reason: 'r' }, runs: true, approve: true },
    { name: 'ask+no approver', policy: { type: 'ask', rules: ['k'], reason: 'r' }, runs: false },
  ] as const;
  for (const testCase of cases) {
    it(`${testCase.name}: the tool runs iff allowed, exactly once; one decision record`, async () => {
      const audit = memoryAudit();
      const tg = createGuard({
        policy: engine(testCase.policy),
        audit,
        onDeny: 'return',
        ...('approve' in testCase ? { approver: autoApprove() } : {}),
      });
      const spy = spyTool();
      const tool = tg.guard(spy.fn, { name: 't' });
      for (let i = 0; i < 5; i++) await tool({ i });
      expect(spy.calls).toHaveLength(testCase.runs ? 5 : 0);
      const decisions = audit.events.filter((e) => e.type === 'decision') as DecisionEvent[];
      expect(decisions).toHaveLength(5);
      expect(new Set(decisions.map((e) => e.callId)).size).toBe(5);
      expect(decisions.every((e) => e.decision === (testCase.runs ? 'allow' : 'deny'))).toBe(true);
      const results = audit.events.filter((e) => e.type === 'result');
      expect(results).toHaveLength(testCase.runs ? 5 : 0);
    });
  }

  it('a tool that throws is recorded once as an error and its error is rethrown as-is', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: engine(ALLOW), audit });
    const boom = new TypeError('kaboom');
    const tool = tg.guard(
      async () => {
        throw boom;
      },
      { name: 't' },
    );
    await expect(tool({})).rejects.toBe(boom);
    const sync = tg.guard(
      () => {
        throw boom;
      },
      { name: 's' },
    );
    await expect(sync({})).rejects.toBe(boom);
    const results = audit.events.filter((e) => e.type === 'result');
    expect(results).toMatchObject([
      { outcome: 'error', error: { name: 'TypeError', message: 'kaboom' } },
      { outcome: 'error' },
    ]);
  });
});

describe('a tool error that cannot be read', () => {
  // A Proxy whose every trap throws: `instanceof`, `message`, `name` all throw when read.
  const unreadable = () =>
    new Proxy(new Error('secret sk-live-123'), {
      get() {
        throw new Error('trap');
      },
      getPrototypeOf() {
        throw new Error('trap');
      },
    });

  it.each([
    ['rejects with it', async () => Promise.reject(unreadable())],
    [
      'throws it',
      () => {
        throw unreadable();
      },
    ],
  ])('a tool that %s: the call rejects with a stand-in, recorded once; nothing escapes it', async (_, fn) => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: engine(ALLOW), audit });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const error = await tg
        .guard(fn, { name: 't' })({})
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      // It could not be redacted, so it is withheld: a plain Error says so.
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/could not be read/);
      expect(audit.events.map((e) => [e.type, (e as { outcome?: string }).outcome])).toEqual([
        ['decision', undefined],
        ['result', 'error'],
      ]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('tool results', () => {
  it('a result whose then getter throws is recorded once as an error and rethrown', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: engine(ALLOW), audit });
    const trap = new Error('then trap');
    const tool = tg.guard(
      () =>
        Object.defineProperty({}, 'then', {
          get() {
            throw trap;
          },
        }),
      { name: 't' },
    );
    await expect(tool({})).rejects.toBe(trap);
    expect(audit.events.map((e) => e.type)).toEqual(['decision', 'result']);
    expect(audit.events[1]).toMatchObject({ outcome: 'error', error: { message: 'then trap' } });
  });
});

describe('input validation', () => {
  const Args = z.object({ to: z.string(), amount: z.number().positive() });

  it('validates with the schema and passes the parsed value', async () => {
    const tg = createGuard({ policy: engine(ALLOW) });
    const spy = spyTool();
    const tool = tg.guard(spy.fn, { name: 't', input: Args });
    await tool({ to: 'a', amount: 3 });
    expect(spy.calls).toEqual([{ to: 'a', amount: 3 }]);
    await expect(tool({ to: 'a', amount: -3 })).rejects.toMatchObject({ code: 'INVALID_ARGS' });
    await expect(tool({ to: 'a', amount: '3' } as never)).rejects.toMatchObject({ code: 'INVALID_ARGS' });
    expect(spy.calls).toHaveLength(1);
  });

  it('rejects unknown keys, even when the schema would strip them', async () => {
    const tg = createGuard({ policy: engine(ALLOW) });
    const spy = spyTool();
    const tool = tg.guard(spy.fn, { name: 't', input: Args });
    const error = await tool({ to: 'a', amount: 1, admin: true } as never).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_ARGS' });
    expect((error as ToolDeniedError).reason).toContain('admin');
    expect(spy.calls).toHaveLength(0);
  });

  it('denies when the schema itself throws or misbehaves', async () => {
    const tg = createGuard({ policy: engine(ALLOW) });
    const spy = spyTool();
    const throwing = {
      '~standard': {
        version: 1,
        vendor: 'x',
        validate: () => {
          throw new Error('bad schema');
        },
      },
    } as const;
    await expect(tg.guard(spy.fn, { name: 'a', input: throwing as never })({})).rejects.toMatchObject({
      code: 'INVALID_ARGS',
    });
    const nothing = { '~standard': { version: 1, vendor: 'x', validate: () => ({}) } } as const;
    await expect(tg.guard(spy.fn, { name: 'b', input: nothing as never })({})).rejects.toMatchObject({
      code: 'INVALID_ARGS',
    });
    const rejecting = {
      '~standard': { version: 1, vendor: 'x', validate: () => Promise.reject(new Error('no')) },
    } as const;
    await expect(tg.guard(spy.fn, { name: 'c', input: rejecting as never })({})).rejects.toMatchObject({
      code: 'INVALID_ARGS',
    });
    // Issues that cannot be read: a path that is not a list, a key whose getter throws, async too.
    const unreadable = [
      () => ({ issues: [{ message: 'bad', path: 5 }] }),
      () => ({
        issues: [
          {
            message: 'bad',
            path: [
              {
                get key() {
                  throw new Error('boom');
                },
              },
            ],
          },
        ],
      }),
      async () => ({ issues: [{ message: 'bad', path: 5 }] }),
    ];
    for (const [i, validate] of unreadable.entries()) {
      const schema = { '~standard': { version: 1, vendor: 'x', validate } };
      await expect(tg.guard(spy.fn, { name: `u${i}`, input: schema as never })({})).rejects.toMatchObject({
        code: 'INVALID_ARGS',
        reason: expect.stringContaining('unreadable issues'),
      });
    }
    expect(spy.calls).toHaveLength(0);
  });

  it('refuses a schema that is not a Standard Schema at construction', () => {
    const tg = createGuard({ policy: engine(ALLOW) });
    expect(() => tg.guard(() => 1, { name: 't', input: {} as never })).toThrow(ConfigurationError);
  });
});

describe('tool names', () => {
  it('refuses control, zero-width, bidi and whitespace characters at construction', () => {
    const tg = createGuard({ policy: engine(ALLOW) });
    for (const name of [
      '',
      'db.query ',
      ' db',
      'db\u200b.query',
      'db\u202e.query',
      'db\nquery',
      'db\u00a0q',
      'e\u0301',
    ]) {
      expect(() => tg.guard(() => 1, { name }), JSON.stringify(name)).toThrow(ConfigurationError);
    }
  });
});

describe('context', () => {
  it('merges withContext and per-call context, and records it', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: engine(ALLOW), audit });
    const seen: unknown[] = [];
    const tool = tg.guard((_args: object, options) => seen.push(options.context), { name: 't' });
    await tg.withContext({ agent: 'bot', principal: 'user:1' }, () =>
      tool({}, { context: { intent: 'ticket-1' } }),
    );
    expect(seen).toEqual([{ agent: 'bot', principal: 'user:1', intent: 'ticket-1' }]);
    expect(audit.events[0]).toMatchObject({ agent: 'bot', principal: 'user:1', intent: 'ticket-1' });
  });

  it('policies see the context, and identity never comes from args', async () => {
    const seen: unknown[] = [];
    const tg = createGuard({
      policy: engine((request: { context: unknown }) => {
        seen.push(request.context);
        return ALLOW;
      }),
    });
    await tg.guard(() => 1, { name: 't' })({ principal: 'admin' }, { context: { principal: 'user:2' } });
    expect(seen).toEqual([{ principal: 'user:2' }]);
  });

  it('refuses malformed context', async () => {
    const tg = createGuard({ policy: engine(ALLOW) });
    const tool = tg.guard(() => 1, { name: 't' });
    await expect(tool({}, { context: { agent: 5 } as never })).rejects.toMatchObject({
      code: 'INVALID_CONTEXT',
    });
    await expect(tool({}, { context: { role: 'admin' } as never })).rejects.toMatchObject({
      code: 'INVALID_CONTEXT',
    });
    expect(() => tg.withContext({ agent: {} } as never, () => 1)).toThrow(ConfigurationError);
  });

  it('nested calls record parentCallId and cannot widen their scope', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: engine(ALLOW), audit, onDeny: 'return' });
    const inner = tg.guard((_args: object, options) => options.parentCallId, { name: 'inner' });
    const escalate = tg.guard(() => 1, { name: 'escalate' });
    const outer = tg.guard(
      async (_args: object, options) => {
        const parent = await inner({});
        const widened = await escalate({}, { context: { principal: 'admin' } });
        const same = await escalate({}, { context: { principal: 'user:1' } });
        return { parent, widened, same, callId: options.callId };
      },
      { name: 'outer' },
    );
    const result = (await outer({}, { context: { principal: 'user:1' } })) as Record<string, unknown>;
    expect(result.parent).toBe(result.callId);
    expect(result.widened).toMatchObject({ denied: true, code: 'INVALID_CONTEXT' });
    expect(result.same).toBe(1);
    const innerDecision = audit.events.find((e) => e.type === 'decision' && e.tool === 'inner');
    expect(innerDecision?.parentCallId).toBe(result.callId);
  });

  it('denies nesting deeper than maxCallDepth', async () => {
    const tg = createGuard({ policy: engine(ALLOW), defaults: { maxCallDepth: 3 } });
    let deepest = 0;
    const recurse: (args: { n: number }) => Promise<unknown> = tg.guard(
      async (args: { n: number }) => {
        deepest = Math.max(deepest, args.n);
        return recurse({ n: args.n + 1 });
      },
      { name: 'recurse' },
    );
    const error = await recurse({ n: 0 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CALL_DEPTH_EXCEEDED' });
    expect(deepest).toBe(3);
  });
});

describe('execution', () => {
  it('passes a frozen snapshot, never the caller object', async () => {
    const tg = createGuard({ policy: engine(ALLOW) });
    const tool = tg.guard(
      (args: { list: number[] }) => {
        expect(Object.isFrozen(args)).toBe(true);
        expect(Object.isFrozen(args.list)).toBe(true);
        expect(() => args.list.push(1)).toThrow();
        return args;
      },
      { name: 't' },
    );
    const input = { list: [1] };
    const result = await tool(input);
    expect(result).not.toBe(input);
  });

  it('call options that cannot be read, or a signal that is no AbortSignal, deny INVALID_CONTEXT before anything runs, recorded', async () => {
    const throwing = (name: string) =>
      Object.defineProperty({}, name, {
        enumerable: true,
        get() {
          throw new Error(`${name} cannot be read`);
        },
      });
    const cases: [unknown, string][] = [
      [throwing('context'), 'options.context'],
      [throwing('signal'), 'options.signal'],
      [throwing('toolCallId'), 'options.toolCallId'],
      [{ signal: { aborted: false } }, 'options.signal'],
      [{ signal: 'stop' }, 'options.signal'],
      [
        new Proxy(
          {},
          {
            get() {
              throw new Error('trap');
            },
          },
        ),
        'options.context',
      ],
    ];
    for (const [options, path] of cases) {
      const audit = memoryAudit();
      const tg = createGuard({ policy: engine(ALLOW), audit, onDeny: 'return' });
      const spy = spyTool();
      const denial = await tg.guard(spy.fn, { name: 't' })({}, options as CallOptions);
      expect(denial).toMatchObject({ denied: true, code: 'INVALID_CONTEXT' });
      expect(spy.calls).toHaveLength(0);
      expect(audit.events).toHaveLength(1);
      expect(audit.events[0]).toMatchObject({ type: 'decision', code: 'INVALID_CONTEXT' });
      expect((audit.events[0] as DecisionEvent).failed?.[0]?.path).toBe(path);
    }
  });

  it('a caller signal that cannot take listeners fails the call once, recorded', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: engine(ALLOW), audit, defaults: { timeout: 20 } });
    let finish: (value: number) => void = () => {};
    const tool = tg.guard(() => new Promise<number>((resolve) => (finish = resolve)), { name: 't' });
    const broken = new Error('no listeners here');
    const signal = {
      aborted: false,
      addEventListener() {
        throw broken;
      },
      removeEventListener() {
        throw broken;
      },
    } as unknown as AbortSignal;
    await expect(tool({}, { signal })).rejects.toBe(broken);
    // Neither the deadline nor the tool finishing later adds a second result.
    await new Promise((resolve) => setTimeout(resolve, 60));
    finish(1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const results = audit.events.filter((event) => event.type === 'result');
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ outcome: 'error', error: { message: 'no listeners here' } });
  });

  it('an aborted caller signal whose reason cannot be read still cancels the call, recorded', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: engine(ALLOW), audit, onDeny: 'return' });
    const tool = tg.guard(() => new Promise<number>(() => {}), { name: 't' });
    let aborted = false;
    const signal = {
      get aborted() {
        return aborted;
      },
      get reason(): unknown {
        throw new Error('no reason');
      },
      addEventListener() {
        // Aborts while the tool's synchronous part runs: the event is gone, only `aborted` tells.
        aborted = true;
      },
      removeEventListener() {},
    } as unknown as AbortSignal;
    await expect(tool({}, { signal })).resolves.toMatchObject({ denied: true, code: 'CANCELLED' });
    expect(audit.events.filter((event) => event.type === 'result')).toMatchObject([{ outcome: 'cancelled' }]);
  });

  it('times out a slow tool, aborts its signal and records the timeout', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: engine(ALLOW), audit, defaults: { timeout: 30 } });
    let aborted = false;
    const tool = tg.guard(
      (_args: object, { signal }) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
          });
          setTimeout(resolve, 1_000);
        }),
      { name: 'slow' },
    );
    const error = await tool({}).catch((e: unknown) => e);
    expect(ToolInterruptedError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'TIMEOUT', ran: true });
    expect(aborted).toBe(true);
    expect(audit.events.at(-1)).toMatchObject({ type: 'result', outcome: 'timeout' });
  });

  it('an obligation timeout tightens the default', async () => {
    const tg = createGuard({
      policy: engine({ type: 'allow', rules: ['r'], obligations: { timeout: 20 } }),
      onDeny: 'return',
    });
    const tool = tg.guard(() => new Promise((resolve) => setTimeout(resolve, 1_000)), { name: 'slow' });
    await expect(tool({})).resolves.toMatchObject({ denied: true, code: 'TIMEOUT' });
  });

  it('cancels: before start (deny) and while running (abort passed to the tool)', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: engine(ALLOW), audit });
    const spy = spyTool();
    const early = new AbortController();
    early.abort();
    await expect(tg.guard(spy.fn, { name: 'a' })({}, { signal: early.signal })).rejects.toMatchObject({
      code: 'CANCELLED',
    });
    expect(spy.calls).toHaveLength(0);

    const late = new AbortController();
    let toolSignal: AbortSignal | undefined;
    const running = tg.guard(
      (_args: object, { signal }) => {
        toolSignal = signal;
        return new Promise(() => {});
      },
      { name: 'b' },
    )({}, { signal: late.signal });
    setTimeout(() => late.abort(), 10);
    await expect(running).rejects.toMatchObject({ code: 'CANCELLED', ran: true });
    expect(toolSignal?.aborted).toBe(true);
    expect(audit.events.at(-1)).toMatchObject({ type: 'result', outcome: 'cancelled' });
  });

  it("onDeny: 'return' resolves with a readable denial", async () => {
    const tg = createGuard({ policy: rules([]), onDeny: 'return' });
    const denial = await tg.guard(() => 1, { name: 'x' })({});
    expect(denial).toEqual({
      denied: true,
      code: 'NO_MATCHING_RULE',
      reason: 'no rule allows this call',
      tool: 'x',
      callId: expect.any(String),
      failed: [{ path: 'tool.name', expected: 'a tool an allow or ask rule names', actual: 'x' }],
    });
    expect(Object.isFrozen(denial)).toBe(true);
  });

  it('guard() works as a one-off with inline configuration', async () => {
    const audit = memoryAudit();
    const read = guard(async (args: { path: string }) => `read ${args.path}`, {
      name: 'fs.read',
      policy: rules([{ id: 'r', effect: 'allow', tool: 'fs.read' }]),
      audit,
    });
    expect(await read({ path: '/data/a' })).toBe('read /data/a');
    expect(read.toolName).toBe('fs.read');
    expect(audit.events).toHaveLength(2);
  });
});

describe('events and errors', () => {
  it('emits typed events; a throwing listener raises error and never breaks the call', async () => {
    const tg = createGuard({ policy: engine(ALLOW) });
    const seen: string[] = [];
    const errors: unknown[] = [];
    tg.on('decision', (event) => {
      seen.push(event.decision);
      throw new Error('listener bug');
    });
    tg.on('result', (event) => seen.push(event.outcome));
    tg.on('error', (event) => errors.push(event.source));
    await expect(tg.guard(() => 7, { name: 't' })({})).resolves.toBe(7);
    expect(seen).toEqual(['allow', 'ok']);
    expect(errors).toEqual(['listener:decision']);
  });

  it('a listener that throws or rejects never stops the listeners after it nor reaches the process', async () => {
    const tg = createGuard({ policy: engine(ALLOW) });
    const seen: string[] = [];
    const errors: { source: string; callId: string | undefined }[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      tg.on('decision', () => {
        throw new Error('first listener bug');
      });
      tg.on('decision', async () => {
        throw new Error('async listener bug');
      });
      tg.on('decision', (event) => seen.push(event.decision));
      tg.on('error', ({ source, callId }) => errors.push({ source, callId }));
      // An error listener that throws has nowhere left to report to: no loop, no crash.
      tg.on('error', () => {
        throw new Error('error listener bug');
      });
      await expect(tg.guard(() => 7, { name: 't' })({})).resolves.toBe(7);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(seen).toEqual(['allow']);
      expect(errors.map((e) => e.source)).toEqual(['listener:decision', 'listener:decision']);
      expect(errors.every((e) => typeof e.callId === 'string')).toBe(true);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('off() removes what on() added, and once() fires once', async () => {
    const tg = createGuard({ policy: engine(ALLOW) });
    const seen: string[] = [];
    const listener = () => seen.push('on');
    tg.on('decision', listener);
    tg.once('decision', () => seen.push('once'));
    const tool = tg.guard(() => 7, { name: 't' });
    await tool({});
    tg.off('decision', listener);
    await tool({});
    expect(seen).toEqual(['on', 'once']);
  });

  it('a failing best-effort sink raises error and never breaks the call', async () => {
    const errors: unknown[] = [];
    const tg = createGuard({
      policy: engine(ALLOW),
      audit: [
        {
          name: 'sync-bad',
          write: () => {
            throw new Error('disk full');
          },
        },
        { name: 'async-bad', write: () => Promise.reject(new Error('network')) },
      ],
    });
    tg.on('error', (event) => errors.push(event.source));
    await expect(tg.guard(() => 7, { name: 't' })({})).resolves.toBe(7);
    // The records are not written: flush says so, naming both sinks, and they stay kept for retry.
    const flushed = tg.flush({ timeout: '2s' });
    await expect(flushed).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    await expect(flushed).rejects.toThrow(/sync-bad: 2 event\(s\) not written yet.*async-bad: 2 event\(s\)/);
    expect(errors).toEqual(expect.arrayContaining(['audit:sync-bad', 'audit:async-bad']));
  });

  it('fail-closed audit: a call runs only after its decision is written; failure denies', async () => {
    const written: string[] = [];
    let fail = false;
    const sink = {
      name: 'durable',
      write: async (event: { type: string }) => {
        if (fail) throw new Error('fsync failed');
        written.push(event.type);
      },
    };
    const tg = createGuard({ policy: engine(ALLOW), audit: { sinks: [sink], mode: 'fail-closed' } });
    const spy = spyTool();
    const tool = tg.guard(spy.fn, { name: 't' });
    await tool({});
    expect(written[0]).toBe('decision');
    fail = true;
    await expect(tool({})).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    expect(spy.calls).toHaveLength(1);
  });

  it('errors carry a cross-copy brand and stable codes', () => {
    const error = new ToolDeniedError({
      code: 'DENIED_BY_RULE',
      tool: 't',
      callId: 'c',
      reason: 'r',
      decision: { type: 'deny', rules: [], code: 'DENIED_BY_RULE', reason: 'r' },
    });
    expect(GuardError.isInstance(error)).toBe(true);
    expect(ToolDeniedError.isInstance(error)).toBe(true);
    expect(ToolInterruptedError.isInstance(error)).toBe(false);
    expect(GuardError.isInstance(new Error('x'))).toBe(false);
    expect(GuardError.isInstance({ code: 'X' })).toBe(false);
    expect(new ConfigurationError('bad').code).toBe('CONFIGURATION_ERROR');
    const wrapped = new GuardError({ code: 'X_Y', message: 'm', cause: error });
    expect(wrapped.cause).toBe(error);
  });

  it('configuration errors throw at construction', () => {
    const policy = engine(ALLOW);
    expect(() => createGuard({ policy, defaults: { timeout: 'soon' } })).toThrow(/defaults.timeout/);
    expect(() => createGuard({ policy, defaults: { maxArgBytes: -1 } })).toThrow(/maxArgBytes/);
    expect(() => createGuard({ policy, onDeny: 'ignore' as never })).toThrow(/onDeny/);
    expect(() => createGuard({ policy, audit: { sinks: [], mode: 'fail-closed' } })).toThrow(/fail-closed/);
    expect(() => createGuard({ policy, audit: [{} as never] })).toThrow(/audit sink/);
    expect(() => createGuard({ policy, approver: {} as never })).toThrow(/approver/);
    // Typos never pass silently.
    expect(() => createGuard({ policy, onDenied: 'return' } as never)).toThrow(/unknown option "onDenied"/);
    expect(() => createGuard({ policy, defaults: { timout: '1s' } as never })).toThrow(
      /unknown option "timout"/,
    );
    expect(() => createGuard({ policy }).guard(() => 1, { name: 't', schema: {} } as never)).toThrow(
      /unknown option "schema"/,
    );
    expect(() => guard(() => 1, { name: 't', policy, polcy: policy } as never)).toThrow(
      /unknown option "polcy"/,
    );
    expect(() =>
      rules([
        { id: 'a', effect: 'allow' },
        { id: 'a', effect: 'deny' },
      ]),
    ).toThrow(/duplicate/);
    expect(() => rules([{ id: 'a', effect: 'permit' as never }])).toThrow(/effect/);
    expect(() => rules([{ id: 'a', effect: 'allow', tools: 'x' } as never])).toThrow(/unknown field/);
  });

  it('close() flushes sinks and closes approver and policy, once', async () => {
    const closed: string[] = [];
    const tg = createGuard({
      policy: { ...engine(ALLOW), close: () => void closed.push('policy') },
      approver: {
        name: 'a',
        request: () => ({ requestId: 'x', approved: false, approver: 'a', reason: 'r' }),
        close: () => void closed.push('approver'),
      },
      audit: { name: 's', write: () => {}, close: async () => void closed.push('sink') },
    });
    await tg.close();
    await tg.close();
    expect(closed).toEqual(['sink', 'approver', 'policy']);
  });
});

describe('one name, one tool', () => {
  it('refuses a second guard of a name with other risk, tags or secrets: check() would disagree with the call (G13)', () => {
    // Before: the registry kept the last registration, each wrapper its own: with a deny rule on
    // risk high, check() answered allow while the risk-high wrapper was denied, and the reverse.
    const tg = createGuard({
      policy: rules([{ id: 'no-high', effect: 'deny', tool: '*', when: { 'tool.risk': { eq: 'high' } } }]),
    });
    tg.guard(() => 1, { name: 'db.query', risk: 'high', tags: ['sql'] });
    expect(() => tg.guard(() => 2, { name: 'db.query', risk: 'low', tags: ['sql'] })).toThrow(
      /already guarded with other risk/,
    );
    expect(() => tg.guard(() => 2, { name: 'db.query', risk: 'high' })).toThrow(/other tags/);
    // The same tool guarded again (an adapter per request) is fine.
    expect(() => tg.guard(() => 3, { name: 'db.query', risk: 'high', tags: ['sql', 'sql'] })).not.toThrow();
  });
});
