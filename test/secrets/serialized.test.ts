import { describe, expect, it } from 'vitest';
import { callbackSecrets, createGuard, memoryAudit, rules } from '../../src/index.ts';
import { scrubResult } from '../../src/secrets/scrub-result.ts';
import { secretScrubber } from '../../src/secrets/scrubber.ts';

// What reaches the model is what JSON.stringify writes: a value's `toJSON` is part of it.

const SECRET = 'correct-horse-battery-staple-42';

function scrubber() {
  const scrub = secretScrubber();
  scrub.add('k', SECRET);
  return scrub;
}

class Hidden {
  readonly #key: string;
  constructor(key: string) {
    this.#key = key;
  }
  toJSON() {
    return { key: this.#key };
  }
}

function guarded(result: () => unknown) {
  const audit = memoryAudit();
  const tg = createGuard({
    policy: rules([{ id: 'a', effect: 'allow', tool: '*' }]),
    audit,
    secrets: { provider: callbackSecrets(() => ({ value: SECRET })), bindings: { k: { tools: ['*'] } } },
  });
  const tool = tg.guard((_args: object, { secrets }) => (secrets.k === SECRET ? result() : undefined), {
    name: 'leaky',
    secrets: ['k'],
  });
  return { tool, audit };
}

describe('scrubbing what is serialized (toJSON)', () => {
  it('replaces a value with its own or its class’s toJSON by the scrubbed result of calling it once, with its key', () => {
    const scrub = scrubber();
    const keys: string[] = [];
    const own = {
      status: 'ok',
      toJSON(key: string) {
        keys.push(key);
        return { status: 'ok', key: SECRET };
      },
    };
    const out = scrub.value({ result: own, list: [new Hidden(SECRET)] });
    expect(out).toEqual({ result: { status: 'ok', key: '[secret:k]' }, list: [{ key: '[secret:k]' }] });
    expect(keys).toEqual(['result']);
    expect(JSON.stringify(out)).not.toContain(SECRET);
    expect(scrub.value(own)).toEqual({ status: 'ok', key: '[secret:k]' });
    expect(scrub.value({ url: new URL(`https://u:${SECRET}@h/`) })).toEqual({
      url: 'https://u:[secret:k]@h/',
    });
    expect(scrub.value({ boxed: { toJSON: () => new String(SECRET) } })).toEqual({ boxed: '[secret:k]' });
  });

  it('calls toJSON once: a second call cannot answer otherwise', () => {
    const scrub = scrubber();
    let calls = 0;
    const shifty = { toJSON: () => (calls++ === 0 ? { ok: true } : { key: SECRET }) };
    const out = scrub.value({ shifty });
    expect(JSON.stringify(out)).toBe('{"shifty":{"ok":true}}');
    expect(JSON.stringify(out)).toBe('{"shifty":{"ok":true}}');
    expect(calls).toBe(1);
  });

  it('withholds a value whose toJSON throws', () => {
    const scrub = scrubber();
    const out = scrub.value({
      a: 1,
      b: {
        toJSON() {
          throw new Error(`no ${SECRET}`);
        },
      },
    });
    expect(out).toEqual({ a: 1, b: '[secret:scrubbed]' });
  });

  it('leaves Dates (and their toJSON) alone, but not a Date whose toJSON or toISOString was replaced', () => {
    const scrub = scrubber();
    const date = new Date(0);
    const clean = { at: date };
    expect(scrub.value(clean)).toBe(clean);
    const patched = new Date(0);
    Object.defineProperty(patched, 'toISOString', { value: () => SECRET });
    expect(JSON.stringify(scrub.value({ at: patched }))).toBe('{"at":"[secret:k]"}');
  });

  it('a framework object keeps its class and gets a toJSON giving the scrubbed result of one call', () => {
    const scrub = scrubber();
    let calls = 0;
    class Message {
      content = 'done';
      toJSON() {
        calls += 1;
        return calls === 1 ? { content: this.content, key: SECRET } : { key: SECRET };
      }
    }
    const message = new Message();
    const out = scrubResult(message, scrub);
    expect(out).toBe(message);
    expect(JSON.stringify(out)).toBe('{"content":"done","key":"[secret:k]"}');
    expect(JSON.stringify(out)).toBe('{"content":"done","key":"[secret:k]"}');
    expect(calls).toBe(1);
    const frozen = Object.freeze(new Hidden(SECRET));
    expect(scrubResult(frozen, scrub)).toEqual({ key: '[secret:k]' });
  });

  it('through the guard: what the caller gets and what is recorded carry no secret', async () => {
    for (const make of [
      () => ({ status: 'ok', toJSON: () => ({ status: 'ok', key: SECRET }) }),
      () => new Hidden(SECRET),
      () => ({ x: new Hidden(SECRET) }),
      () => [{ toJSON: () => SECRET }],
    ]) {
      const { tool, audit } = guarded(make);
      const out = await tool({});
      expect(JSON.stringify(out)).not.toContain(SECRET);
      expect(JSON.stringify(out)).toContain('[secret:k]');
      expect(JSON.stringify(audit.events)).not.toContain(SECRET);
    }
    const { tool } = guarded(() => ({
      toJSON() {
        throw new Error('no');
      },
    }));
    await expect(tool({})).resolves.toBe('[secret:scrubbed]');
  });
});
