import { describe, expect, it } from 'vitest';
import {
  callbackSecrets,
  createGuard,
  type GuardOptions,
  memoryAudit,
  type ResultEvent,
  rules,
  ToolDeniedError,
} from '../../src/index.ts';

// What a tool throws reaches the caller (and through the adapters, the model) only scrubbed, all
// of it; the result record's error is redacted like other recorded text.

// Not a shape the audit trail's detectors know, so what is seen is the scrubber's work.
const SECRET = 'correct-horse-battery-staple-42';

function setup(extra: Partial<GuardOptions> = {}) {
  const audit = memoryAudit();
  const tg = createGuard({
    policy: rules([
      { id: 'a', effect: 'allow', tool: 'tools.*' },
      { id: 'no', effect: 'deny', tool: 'blocked', reason: 'never' },
    ]),
    audit,
    secrets: {
      provider: callbackSecrets(() => ({ value: SECRET })),
      bindings: { k: { tools: ['tools.*'] } },
    },
    ...extra,
  });
  const failing = (name: string, fail: (secret: string) => unknown) =>
    tg.guard(
      (_args: object, { secrets }) => {
        throw fail(secrets.k!);
      },
      { name: `tools.${name}`, secrets: ['k'] },
    );
  const recorded = (name: string) =>
    JSON.stringify(audit.events.filter((e) => e.type === 'result' && e.tool === `tools.${name}`));
  return { tg, audit, failing, recorded };
}

/** Everything of a thrown value a caller or adapter could show. */
function shown(error: unknown): string {
  const parts = [String(error), JSON.stringify(error)];
  if (error instanceof Error) {
    parts.push(error.name, error.message, String(error.stack), shown(error.cause));
    if (error instanceof AggregateError) parts.push(...error.errors.map(shown));
    for (const key of Object.keys(error)) parts.push(JSON.stringify((error as never)[key]));
  }
  return parts.join('\n');
}

describe('a tool’s thrown error, with secrets', () => {
  const cases: Record<string, (secret: string) => unknown> = {
    name: (s) => Object.assign(new Error('bad'), { name: `AuthError ${s}` }),
    ownProperty: (s) =>
      Object.assign(new Error('request failed'), { config: { headers: { Authorization: `Bearer ${s}` } } }),
    code: (s) => Object.assign(new Error('bad'), { code: s }),
    causeString: (s) => new Error('upstream failed', { cause: `401 for key ${s}` }),
    causeObject: (s) => new Error('upstream failed', { cause: { key: s } }),
    causeChain: (s) => new Error('a', { cause: new TypeError('b', { cause: { deep: [s] } }) }),
    aggregate: (s) => new AggregateError([new Error(`inner ${s}`), { key: s }], 'many'),
    plainObject: (s) => ({ message: 'failed', key: s }),
    string: (s) => `failed with ${s}`,
    classInstance: (s) =>
      new (class HttpFailure {
        constructor(readonly body: string) {}
      })(`{"key":"${s}"}`),
    errorWithToJSON: (s) => {
      const headers = { toJSON: () => ({ Authorization: s }) };
      return Object.assign(new Error('bad'), { headers });
    },
    encoded: (s) =>
      new Error(
        `see https://h/${[...s].map((c, i) => (i % 2 ? `%${c.charCodeAt(0).toString(16)}` : c)).join('')}`,
      ),
  };
  for (const [name, fail] of Object.entries(cases)) {
    it(`${name}: the caller and the record see no secret`, async () => {
      const { failing, recorded } = setup();
      const error = await failing(
        name,
        fail,
      )({}).then(
        () => {
          throw new Error('expected a rejection');
        },
        (e: unknown) => e,
      );
      expect(shown(error)).not.toContain(SECRET);
      expect(shown(error)).toContain('[secret:k]');
      expect(recorded(name)).not.toContain(SECRET);
    });
  }

  it('keeps the same object and class (a nested ToolDeniedError keeps its type and code)', async () => {
    const { tg, failing } = setup();
    const blocked = tg.guard(() => 1, { name: 'blocked' });
    let thrown: unknown;
    const tool = failing('nested', (s) => {
      thrown = Object.assign(new TypeError(`bad ${s}`), { token: s });
      return thrown;
    });
    const error = await tool({}).catch((e: unknown) => e);
    expect(error).toBe(thrown);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as { token: string }).token).toBe('[secret:k]');
    const outer = tg.guard(
      async (_args: object, { secrets }) => {
        try {
          await blocked({ note: secrets.k });
        } catch (e) {
          Object.assign(e as object, { extra: secrets.k });
          throw e;
        }
      },
      { name: 'tools.outer', secrets: ['k'] },
    );
    const denied = await outer({}).catch((e: unknown) => e);
    expect(ToolDeniedError.isInstance(denied)).toBe(true);
    expect(denied).toBeInstanceOf(ToolDeniedError);
    expect((denied as ToolDeniedError).code).toBe('DENIED_BY_RULE');
    expect(shown(denied)).not.toContain(SECRET);
  });

  it('withholds an error it cannot read (a getter that throws) rather than running it again', async () => {
    const { failing } = setup();
    const error = await failing('getter', (s) => {
      const e = new Error(`bad ${s}`);
      Object.defineProperty(e, 'detail', {
        enumerable: true,
        get() {
          throw new Error(s);
        },
      });
      return e;
    })({}).catch((e: unknown) => e);
    expect(shown(error)).not.toContain(SECRET);
    expect((error as Error).message).toMatch(/could not be read/);
  });

  it('a frozen error is replaced by a plain one with the scrubbed name and message', async () => {
    const { failing } = setup();
    const error = await failing('frozen', (s) =>
      Object.freeze(Object.assign(new Error(`bad ${s}`), { name: `E ${s}`, key: s })),
    )({}).catch((e: unknown) => e);
    expect(shown(error)).not.toContain(SECRET);
    expect((error as Error).name).toBe('E [secret:k]');
  });
});

describe('the result record’s error', () => {
  it('redacts the name like other recorded text', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: rules([{ id: 'a', effect: 'allow', tool: '*' }]), audit });
    const key = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';
    const tool = tg.guard(
      () => {
        throw Object.assign(new Error(`bad ${key}`), { name: `AuthError ${key}` });
      },
      { name: 'failing' },
    );
    const error = await tool({}).catch((e: unknown) => e);
    expect(String(error)).not.toContain(key);
    const result = audit.events.find((e): e is ResultEvent => e.type === 'result');
    expect(result?.error?.name).not.toContain(key);
    expect(result?.error?.message).not.toContain(key);
  });
});
