import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { callbackSecrets, createGuard, jsonlAudit, memoryAudit, rules } from '../../src/index.ts';

// A class instance holding a handed-out value, anywhere in what a tool returns or throws: inside a
// Map (a value or a key), a Set, an array, an error's `cause`, own properties or `errors`, or
// nested through several of these. What reaches the caller (everything it can read, not only
// what `JSON.stringify` writes: a Map's entries, an error's non-enumerable `cause`) and what
// reaches the audit sinks (the memory sink and a real JSONL file, output capture on) hold no
// value. Through `tg.guard()`, the entry point every adapter goes through.

const SECRET = 'correct-horse-battery-staple-42';

class Credentials {
  constructor(
    readonly user: string,
    readonly token: string,
  ) {}
}

class Envelope {
  readonly meta = { at: 1 };
  constructor(readonly inner: unknown) {}
}

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function setup() {
  dir = mkdtempSync(join(tmpdir(), 'toolgate-class-'));
  const file = join(dir, 'audit.jsonl');
  const memory = memoryAudit();
  const jsonl = jsonlAudit({ path: file });
  const tg = createGuard({
    policy: rules([{ id: 'a', effect: 'allow', tool: 'tools.*' }]),
    audit: { sinks: [memory, jsonl], output: { capture: true, maxBytes: 1_000_000 } },
    secrets: {
      provider: callbackSecrets(() => ({ value: SECRET })),
      bindings: { k: { tools: ['tools.*'] } },
    },
  });
  const records = async () => {
    await tg.close();
    return `${JSON.stringify(memory.events)}\n${readFileSync(file, 'utf8')}`;
  };
  return { tg, records };
}

/** Everything of `value` a caller can reach: what it prints, what it serializes, every entry. */
function reachable(value: unknown): string {
  return inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true, getters: true });
}

/** What tools return: the secret in a class instance, placed in each kind of container. */
const RESULTS: Record<string, (secret: string) => unknown> = {
  mapValue: (s) => new Map([['login', new Credentials('alice', s)]]),
  mapKey: (s) => new Map([[new Credentials('alice', s), 'ok']]),
  set: (s) => new Set([new Credentials('alice', s)]),
  array: (s) => [new Credentials('alice', s)],
  mapInData: (s) => ({ status: 200, logins: new Map([['alice', new Credentials('alice', s)]]) }),
  setInArray: (s) => [{ tags: new Set(['x', new Credentials('alice', s)]) }],
  mapInMap: (s) => new Map([['outer', new Map([['inner', new Credentials('alice', s)]])]]),
  classInMapInClass: (s) => new Envelope(new Map([['c', new Envelope(new Credentials('alice', s))]])),
  mapOfArrays: (s) => new Map([['list', [new Envelope({ deep: new Credentials('alice', s) })]]]),
  errorInMap: (s) => new Map([['failure', new Error('failed', { cause: new Credentials('alice', s) })]]),
};

/** What tools throw: the secret in a class instance reached through the error. */
const THROWN: Record<string, (secret: string) => unknown> = {
  cause: (s) => new Error('upstream failed', { cause: new Credentials('alice', s) }),
  causeChain: (s) =>
    new Error('a', { cause: new TypeError('b', { cause: new Envelope(new Credentials('alice', s)) }) }),
  ownProperty: (s) => Object.assign(new Error('request failed'), { response: new Credentials('alice', s) }),
  aggregate: (s) => new AggregateError([new Error('one'), new Credentials('alice', s)], 'many'),
  causeMap: (s) => new Error('failed', { cause: new Map([['login', new Credentials('alice', s)]]) }),
  thrownMap: (s) => new Map([['login', new Credentials('alice', s)]]),
  thrownSet: (s) => new Set([new Credentials('alice', s)]),
  thrownInstance: (s) => new Envelope(new Set([new Credentials('alice', s)])),
};

describe('class instances inside Maps, Sets, arrays and errors, through tg.guard()', () => {
  for (const [name, make] of Object.entries(RESULTS)) {
    it(`returned (${name}): neither the caller nor the audit records see the value`, async () => {
      const { tg, records } = setup();
      const tool = tg.guard((_args: object, { secrets }) => make(secrets.k!), {
        name: `tools.${name}`,
        secrets: ['k'],
      });
      const result = await tool({});
      expect(reachable(result)).not.toContain(SECRET);
      expect(reachable(result)).toContain('[secret:k]');
      expect(JSON.stringify(result)).not.toContain(SECRET);
      const recorded = await records();
      expect(recorded).toContain('"type":"result"');
      expect(recorded).not.toContain(SECRET);
    });
  }

  for (const [name, make] of Object.entries(THROWN)) {
    it(`thrown (${name}): neither the caller nor the audit records see the value`, async () => {
      const { tg, records } = setup();
      const tool = tg.guard(
        (_args: object, { secrets }) => {
          throw make(secrets.k!);
        },
        { name: `tools.${name}`, secrets: ['k'] },
      );
      const error = await tool({}).then(
        () => {
          throw new Error('expected a rejection');
        },
        (e: unknown) => e,
      );
      expect(reachable(error)).not.toContain(SECRET);
      expect(reachable(error)).toContain('[secret:k]');
      const recorded = await records();
      expect(recorded).toContain('"outcome":"error"');
      expect(recorded).not.toContain(SECRET);
    });
  }

  it('keeps each instance its class, and the containers their kind', async () => {
    const { tg } = setup();
    const tool = tg.guard((_args: object, { secrets }) => RESULTS.mapInData!(secrets.k!), {
      name: 'tools.kinds',
      secrets: ['k'],
    });
    const result = (await tool({})) as { logins: Map<string, Credentials> };
    expect(result.logins).toBeInstanceOf(Map);
    const login = result.logins.get('alice');
    expect(login).toBeInstanceOf(Credentials);
    expect(login).toMatchObject({ user: 'alice', token: '[secret:k]' });
  });
});

describe('a container that cannot be read is withheld, never returned unscrubbed', () => {
  it('a Map whose iteration throws: the call is an error, recorded, and the value does not come back', async () => {
    class Unreadable extends Map<unknown, unknown> {
      override [Symbol.iterator](): MapIterator<[unknown, unknown]> {
        throw new Error('no entries for you');
      }
    }
    const { tg, records } = setup();
    const tool = tg.guard(
      async (_input: unknown, { secrets }: { secrets: Record<string, string> }) => {
        const map = new Unreadable();
        Map.prototype.set.call(map, 'login', new Credentials('alice', secrets.k!));
        return map;
      },
      { name: 'tools.read', secrets: ['k'] },
    );
    await expect(tool({})).rejects.toMatchObject({ name: 'OutputWithheld' });
    expect(await records()).not.toContain(SECRET);
  });
});
