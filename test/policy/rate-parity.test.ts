import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigurationError } from '../../src/errors.ts';
import { createGuard } from '../../src/guard.ts';
import { parseLimits, parseRate } from '../../src/limits/parse.ts';
import { parsePolicy } from '../../src/policy/load.ts';
import { rules } from '../../src/policy/rules.ts';
import { memoryStore } from '../../src/store/memory.ts';
import { fakeClock } from '../../src/testing/fakes.ts';
import type { Decision } from '../../src/types.ts';
import { request } from './helpers.ts';

// A rate `rules()` accepts must be one the limits step runs (else every call of the rule is denied
// POLICY_ERROR at run time), and a rate the limits step runs must not be refused by `rules()`.

const signal = new AbortController().signal;

function limitsAccept(rate: string): boolean {
  try {
    parseRate(rate);
    return true;
  } catch {
    return false;
  }
}

/** Whether `rules()` compiles the rate; any refusal must be a ConfigurationError naming the rule. */
function rulesAccept(rate: string): boolean {
  try {
    rules([{ id: 'r', effect: 'allow', tool: 't', limit: { rate } }]);
    return true;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/rule "r": limit\.rate/);
    return false;
  }
}

const yamlParse = (text: string, options: object) => parseYaml(text, options);

/** Whether a YAML policy file with the rate (as a double-quoted scalar) compiles. */
function yamlAccepts(rate: string): boolean {
  const text = `rules:\n  - id: r\n    effect: allow\n    tool: t\n    limit:\n      rate: ${JSON.stringify(rate)}\n`;
  try {
    parsePolicy(text, { format: 'yaml' }, yamlParse);
    return true;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/rule "r": limit\.rate/);
    return false;
  }
}

const space = fc.constantFrom('', '', '', ' ', '  ', '\t', '\n', '\u00a0', '\u2003');
const count = fc.oneof(
  fc.nat({ max: 1000 }).map(String),
  fc.constantFrom('0', '00', '007', '-1', '+1', '1.5', '1e3', '0x10', '', '9007199254740991'),
  fc.constantFrom('9007199254740992', '99999999999999999999', '\u0663', '1_000'),
);
const unit = fc.constantFrom(
  'ms',
  's',
  'sec',
  'secs',
  'second',
  'seconds',
  'm',
  'min',
  'minutes',
  'h',
  'hr',
  'hrs',
  'hour',
  'hours',
  'd',
  'day',
  'w',
  'week',
  'y',
  'yr',
  'years',
  'H',
  'Min',
  'x',
  'mo',
  'fortnight',
);
const amount = fc.oneof(
  fc.nat({ max: 100 }).map(String),
  fc.constantFrom('0', '0.5', '.5', '1.', '-1', '1e3', '00', '2.5'),
);
const window = fc.oneof(
  fc.tuple(amount, fc.constantFrom('', ' ', '  '), unit).map(([n, gap, u]) => `${n}${gap}${u}`),
  unit,
  amount,
  fc.constantFrom('', '1m/2', '/', '1m 1s', 'h1', '1 m', 'a'.repeat(101), `1${' '.repeat(99)}m`),
);
const separator = fc.constantFrom('/', '/', '/', '//', '\\', ' per ', '');
const rate = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.tuple(space, count, space, separator, space, window, space).map((p) => p.join('')),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

describe('rates: rules() and the limits step accept the same strings', () => {
  test.each([
    ['5/h', true],
    ['20/h', true],
    [' 5 / 1m ', true],
    ['5/\t1h\n', true],
    ['1/1', true],
    ['5/0.5s', true],
    ['5/hours', true],
    ['99999999999999999999/1m', false],
    ['9007199254740992/1m', false],
    ['0/1m', false],
    ['5/0s', false],
    ['5/-1m', false],
    ['5/1m/2', false],
    ['ten per minute', false],
    ['5/fortnight', false],
    ['5 per 1m', false],
  ])('%j: accepted %s by both', (text, accepted) => {
    expect(limitsAccept(text)).toBe(accepted);
    expect(rulesAccept(text)).toBe(accepted);
    expect(yamlAccepts(text)).toBe(accepted);
  });

  test('property: rules() accepts a rate exactly when the limits step parses it, and then runs it', () => {
    fc.assert(
      fc.property(rate, (text) => {
        const accepted = limitsAccept(text);
        expect(rulesAccept(text)).toBe(accepted);
        if (!accepted) return;
        // What the rule hands the limits step parses to what parseRate gives.
        const engine = rules([{ id: 'r', effect: 'allow', tool: 't', limit: { rate: text } }]);
        const decision = engine.evaluate(request('t'), { signal }) as Decision;
        expect(decision.type).toBe('allow');
        const requirement = decision.type === 'allow' ? decision.limits?.[0] : undefined;
        expect(requirement).toBeDefined();
        expect(parseLimits(requirement!.rule, requirement!.limits).rate).toEqual(parseRate(text));
      }),
      { numRuns: 2000 },
    );
  });

  test('property: a YAML policy file accepts a rate exactly when the limits step parses it', () => {
    fc.assert(
      fc.property(rate, (text) => {
        expect(yamlAccepts(text)).toBe(limitsAccept(text));
      }),
      { numRuns: 1000 },
    );
  });

  test('YAML: a plain (unquoted) bare-unit rate loads', () => {
    const engine = parsePolicy(
      'rules:\n  - id: r\n    effect: allow\n    tool: t\n    limit: { rate: 5/h }\n',
      { format: 'yaml' },
      yamlParse,
    );
    expect(engine.evaluate(request('t'), { signal })).toMatchObject({
      type: 'allow',
      limits: [{ rule: 'r', limits: { rate: '5/h' } }],
    });
  });

  test('through the guard: a bare-unit rate with spaces (" 1 / h ") admits one call an hour', async () => {
    const clock = fakeClock();
    const tg = createGuard({
      policy: rules([{ id: 'r', effect: 'allow', tool: 't', limit: { rate: ' 1 / h ' } }]),
      store: memoryStore(),
      now: clock.now,
      onDeny: 'return',
    });
    let runs = 0;
    const tool = tg.guard(
      () => {
        runs += 1;
        return 'ran';
      },
      { name: 't' },
    );
    expect(await tool({})).toBe('ran');
    expect(await tool({})).toMatchObject({ denied: true, code: 'RATE_LIMITED' });
    clock.advance(60 * 60 * 1000);
    expect(await tool({})).toBe('ran');
    expect(runs).toBe(2);
    await tg.close();
  });
});
