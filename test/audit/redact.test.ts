import { describe, expect, it } from 'vitest';
import { createRedactor, luhnValid, redactArgs } from '../../src/audit/redact.ts';
import {
  type AuditEvent,
  ConfigurationError,
  callbackApprover,
  createGuard,
  memoryAudit,
  rules,
  ToolDeniedError,
  ToolInterruptedError,
} from '../../src/index.ts';
import { SECRET_VALUES, SECRETS } from './secrets.ts';

const ALLOW_ALL = rules([{ id: 'all', effect: 'allow', tool: '*' }]);

describe('detectors', () => {
  const redactor = createRedactor(undefined);
  for (const [name, secret] of Object.entries(SECRETS)) {
    it(`finds ${name} inside a longer string`, () => {
      const text = `before ${secret} after`;
      const out = redactor.redactText(text)!;
      expect(out).not.toContain(secret);
      expect(out).toContain('[REDACTED]');
      expect(out.startsWith('before ')).toBe(true);
    });
  }

  it('leaves ordinary text, ids and numbers alone', () => {
    for (const text of ['order o-1', 'refund 40 EUR', 'task_id 1234', 'phone 555 0100', '4111111111111112']) {
      expect(redactor.redactText(text)).toBe(text);
    }
  });

  it('Luhn: valid card numbers are redacted, invalid ones are not', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(redactor.redactText('card 4111 1111 1111 1111 ok')).toBe('card [REDACTED] ok');
    expect(redactor.redactText('card 4111-1111-1111-1112 ok')).toBe('card 4111-1111-1111-1112 ok');
  });

  it('stays linear on long hostile strings', () => {
    const hostile = `${'Bearer '.repeat(20_000)}${'1 '.repeat(50_000)}-----BEGIN PRIVATE KEY-----${'a'.repeat(100_000)}`;
    const out = redactor.redactText(hostile);
    expect(out).toBeTypeOf('string');
  });
});

describe('paths and keys', () => {
  it('redacts configured paths, * and ** globs, and sensitive key names', () => {
    const redactor = createRedactor({ paths: ['args.card.cvc', '*.ref', '**.inner'] });
    const args = Object.freeze({
      card: { cvc: '123', last4: '4242' },
      ref: 'abc',
      password: 'hunter2',
      nested: { deep: { inner: 'x' }, ref: 'kept-not-top-level', apiKey: 'sensitive-name' },
      q: 'fine',
    });
    const out = redactor.redact(args, 'args') as Record<string, any>;
    expect(out).toEqual({
      card: { cvc: '[REDACTED]', last4: '4242' },
      ref: '[REDACTED]',
      password: '[REDACTED]',
      nested: { deep: { inner: '[REDACTED]' }, ref: 'kept-not-top-level', apiKey: '[REDACTED]' },
      q: 'fine',
    });
    expect(Object.isFrozen(out)).toBe(true);
    // The original is untouched and the tool still gets the real value.
    expect(args.password).toBe('hunter2');
  });

  it('returns the very same object when nothing matches (no copy on the hot path)', () => {
    const args = Object.freeze({ orderId: 'o-1', amount: 40, tags: Object.freeze(['a']) });
    expect(createRedactor(undefined).redact(args, 'args')).toBe(args);
  });

  it('keeps __proto__ keys as data when copying', () => {
    const args = JSON.parse('{"__proto__": {"polluted": 1}, "password": "x"}');
    const out = createRedactor(undefined).redact(args, 'args') as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('redactArgs() is the helper for approval prompts', () => {
    expect(redactArgs({ token: 'x', q: 'y' })).toEqual({ token: '[REDACTED]', q: 'y' });
    expect(redactArgs({ token: 'x' }, false)).toEqual({ token: 'x' });
  });

  it('invalid options throw at construction', () => {
    expect(() => createRedactor({ paths: ['a..b'] })).toThrow(ConfigurationError);
    expect(() => createRedactor({ detectors: ['nope' as never] })).toThrow(ConfigurationError);
    expect(() => createRedactor({ detectors: [{ name: 'x' } as never] })).toThrow(ConfigurationError);
    expect(() => createGuard({ policy: ALLOW_ALL, audit: { sinks: [], redact: { paths: [''] } } })).toThrow(
      ConfigurationError,
    );
  });

  it('custom detectors: pattern and replace', () => {
    const redactor = createRedactor({
      detectors: [
        { name: 'ticket', pattern: /TKT-\d+/ },
        { name: 'upper', replace: (t: string) => t.replace(/SECRET/g, '***') },
      ],
    });
    expect(redactor.redactText('TKT-1 and TKT-22 SECRET')).toBe('[REDACTED] and [REDACTED] ***');
  });
});

describe('in the guard', () => {
  it('secrets in args, attributes, errors and captured outputs never reach a record', async () => {
    const audit = memoryAudit();
    const tg = createGuard({
      policy: ALLOW_ALL,
      audit: { sinks: [audit], output: { capture: true }, redact: { paths: ['args.note'] } },
    });
    let received: unknown;
    const tool = tg.guard(
      (args: Record<string, unknown>) => {
        received = args;
        return { echo: `got ${SECRETS.openai}`, password: 'pw-in-output', rows: [{ card: SECRETS.card }] };
      },
      { name: 'leaky' },
    );
    const failing = tg.guard(
      () => {
        throw new Error(`upstream said ${SECRETS.bearer}`);
      },
      { name: 'failing' },
    );
    const args = { password: 'hunter2-secret', note: 'free text', auth: SECRETS.bearer, list: [SECRETS.aws] };
    await tool(args, { context: { attributes: { apiKey: 'attr-key-secret', jwt: SECRETS.jwt } } });
    await failing({}).catch(() => undefined);
    // The tool itself still receives the real arguments.
    expect(received).toEqual(args);
    const text = JSON.stringify(audit.events);
    for (const secret of [...SECRET_VALUES, 'hunter2-secret', 'pw-in-output', 'attr-key-secret', 'free text'])
      expect(text).not.toContain(secret);
    const result = audit.events.find((e) => e.type === 'result' && e.tool === 'leaky') as any;
    expect(result.output.password).toBe('[REDACTED]');
    expect(result.outputShape).toEqual({ type: 'object', size: 3 });
  });

  it('by default records the size and shape of the output, never its content', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: ALLOW_ALL, audit });
    const tool = tg.guard(() => [{ a: 1 }, { a: 2 }], { name: 'list' });
    await tool({});
    const result = audit.events.find((e) => e.type === 'result') as any;
    expect(result.output).toBeUndefined();
    expect(result.outputShape).toEqual({ type: 'array', size: 2 });
    expect(result.outputBytes).toBe(JSON.stringify([{ a: 1 }, { a: 2 }]).length);
  });

  it('caps captured output at maxBytes', async () => {
    const audit = memoryAudit();
    const tg = createGuard({
      policy: ALLOW_ALL,
      audit: { sinks: [audit], output: { capture: true, maxBytes: 20 } },
    });
    await tg.guard(() => ({ text: 'x'.repeat(1000) }), { name: 'big' })({});
    const result = audit.events.find((e) => e.type === 'result') as any;
    expect(result.outputTruncated).toBe(true);
    expect(Buffer.byteLength(result.output)).toBeLessThanOrEqual(20);
  });

  it('a redaction failure denies the call (AUDIT_UNAVAILABLE) and records no args', async () => {
    const audit = memoryAudit();
    const tg = createGuard({
      policy: ALLOW_ALL,
      audit: {
        sinks: [audit],
        redact: {
          detectors: [
            {
              name: 'broken',
              replace: (text: string) => {
                if (text.includes('boom')) throw new Error('detector crashed');
                return text;
              },
            },
          ],
        },
      },
    });
    let ran = 0;
    const tool = tg.guard(() => ran++, { name: 't' });
    const error = await tool({ q: 'boom' }).catch((e: unknown) => e);
    expect(ToolDeniedError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    expect(ran).toBe(0);
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0]).not.toHaveProperty('args');
    await tool({ q: 'fine' });
    expect(ran).toBe(1);
  });

  it('a detector that returns a non-string denies too', async () => {
    const tg = createGuard({
      policy: ALLOW_ALL,
      audit: { sinks: [], redact: { detectors: [{ name: 'bad', replace: () => 42 as never }] } },
    });
    await expect(tg.guard(() => 1, { name: 't' })({ q: 'x' })).rejects.toMatchObject({
      code: 'AUDIT_UNAVAILABLE',
    });
  });

  it('the approver sees redacted args, and a redaction failure on edited args denies', async () => {
    const seen: unknown[] = [];
    const audit = memoryAudit();
    const tg = createGuard({
      policy: rules([{ id: 'ask', effect: 'ask', tool: '*', reason: 'check' }]),
      approver: callbackApprover((request) => {
        seen.push(request.args);
        return { requestId: request.id, approved: true, approver: 'alice' };
      }),
      audit,
    });
    await tg.guard(() => 1, { name: 't' })({ password: 'hunter2-secret', card: SECRETS.card });
    expect(JSON.stringify(seen)).not.toContain('hunter2-secret');
    expect(JSON.stringify(seen)).not.toContain(SECRETS.card);
    expect(JSON.stringify(audit.events)).not.toContain('hunter2-secret');
  });

  it('the free-text reason of an approver is redacted in the record', async () => {
    const audit = memoryAudit();
    const tg = createGuard({
      policy: rules([{ id: 'ask', effect: 'ask', tool: '*', reason: 'check' }]),
      approver: callbackApprover((request) => ({
        requestId: request.id,
        approved: false,
        approver: 'bob',
        reason: `leaked key ${SECRETS.openai} in the args`,
      })),
      audit,
    });
    await expect(tg.guard(() => 1, { name: 't' })({})).rejects.toMatchObject({ code: 'APPROVAL_DENIED' });
    const text = JSON.stringify(audit.events);
    expect(text).toContain('approval-response');
    expect(text).not.toContain(SECRETS.openai);
  });

  it('the redact obligation removes paths from the recorded output', async () => {
    const audit = memoryAudit();
    const tg = createGuard({
      policy: rules([
        { id: 'r', effect: 'allow', tool: '*', obligations: { redact: ['ssn', 'output.rows.*.email'] } },
      ]),
      audit: { sinks: [audit], output: { capture: true } },
    });
    const out = await tg.guard(() => ({ ssn: '123-45-6789', rows: [{ email: 'a@b.c', id: 1 }] }), {
      name: 't',
    })({});
    // The caller still gets the value; only the record is redacted.
    expect(out).toEqual({ ssn: '123-45-6789', rows: [{ email: 'a@b.c', id: 1 }] });
    const result = audit.events.find((e) => e.type === 'result') as any;
    expect(result.output).toEqual({ ssn: '[REDACTED]', rows: [{ email: '[REDACTED]', id: 1 }] });
  });

  it('a malformed redact obligation denies (POLICY_ERROR)', async () => {
    const tg = createGuard({
      policy: {
        name: 'p',
        evaluate: () => ({ type: 'allow', rules: ['x'], obligations: { redact: 'ssn' as never } }),
      },
    });
    await expect(tg.guard(() => 1, { name: 't' })({})).rejects.toMatchObject({ code: 'POLICY_ERROR' });
  });

  it('redact: false turns redaction off', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: ALLOW_ALL, audit: { sinks: [audit], redact: false } });
    const args = { password: 'x' };
    await tg.guard(() => 1, { name: 't' })(args);
    expect((audit.events[0] as AuditEvent & { args: unknown }).args).toEqual(args);
  });

  it('ToolInterruptedError is still exported for fail-closed audit', () => {
    expect(typeof ToolInterruptedError).toBe('function');
  });
});
