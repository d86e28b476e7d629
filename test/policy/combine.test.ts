import { describe, expect, test } from 'vitest';
import { ConfigurationError } from '../../src/errors.ts';
import { denyOverrides, firstApplicable } from '../../src/policy/combine.ts';
import { rules } from '../../src/policy/rules.ts';
import type { PolicyEngine } from '../../src/policy/types.ts';
import { request } from './helpers.ts';

const signal = new AbortController().signal;
const allowT = rules([
  { id: 'allow-t', effect: 'allow', tool: 't', obligations: { maxRows: 10 }, limit: { rate: '5/1m' } },
]);
const askT = rules([
  { id: 'ask-t', effect: 'ask', tool: 't', approval: { timeout: '1m' }, obligations: { maxRows: 3 } },
]);
const denyT = rules([{ id: 'deny-t', effect: 'deny', tool: 't' }]);
const onlyU = rules([{ id: 'allow-u', effect: 'allow', tool: 'u' }]);
const throwing: PolicyEngine = {
  name: 'boom',
  evaluate: () => {
    throw new Error('boom');
  },
};
const malformed: PolicyEngine = { name: 'bad', evaluate: () => ({ type: 'allow' }) as never };
const asyncAllow: PolicyEngine = {
  name: 'async',
  evaluate: async () => ({ type: 'allow', rules: ['async'] }),
};

describe('firstApplicable', () => {
  test('first engine with a matching rule decides', async () => {
    expect(await firstApplicable([onlyU, denyT, allowT]).evaluate(request('t'), { signal })).toMatchObject({
      type: 'deny',
      rules: ['deny-t'],
    });
    expect(await firstApplicable([onlyU, allowT, denyT]).evaluate(request('t'), { signal })).toMatchObject({
      type: 'allow',
      rules: ['allow-t'],
    });
    expect(await firstApplicable([onlyU]).evaluate(request('t'), { signal })).toMatchObject({
      code: 'NO_MATCHING_RULE',
    });
  });
  test('an error never falls through to a later allow', async () => {
    expect(await firstApplicable([throwing, allowT]).evaluate(request('t'), { signal })).toMatchObject({
      code: 'POLICY_ERROR',
    });
    expect(await firstApplicable([malformed, allowT]).evaluate(request('t'), { signal })).toMatchObject({
      code: 'POLICY_ERROR',
    });
  });
  test('carries a combined version', async () => {
    const engine = firstApplicable([onlyU, allowT]);
    expect(engine.version).toMatch(/^[0-9a-f]{64}$/);
    expect((await engine.evaluate(request('t'), { signal })).policyVersion).toBe(engine.version);
  });
});

describe('denyOverrides', () => {
  test('deny beats ask beats allow across engines; obligations and limits merge', async () => {
    expect(await denyOverrides([allowT, askT, denyT]).evaluate(request('t'), { signal })).toMatchObject({
      type: 'deny',
      rules: ['deny-t'],
    });
    expect(await denyOverrides([allowT, askT, onlyU]).evaluate(request('t'), { signal })).toMatchObject({
      type: 'ask',
      rules: ['ask-t'],
      approval: { timeout: 60_000 },
      obligations: { maxRows: 3 },
      limits: [{ rule: 'allow-t', limits: { rate: '5/1m' } }],
    });
    expect(await denyOverrides([allowT, onlyU, asyncAllow]).evaluate(request('t'), { signal })).toMatchObject(
      { type: 'allow', rules: ['allow-t', 'async'] },
    );
    expect(await denyOverrides([onlyU]).evaluate(request('t'), { signal })).toMatchObject({
      code: 'NO_MATCHING_RULE',
    });
  });
  test('an engine error denies', async () => {
    expect(await denyOverrides([allowT, throwing]).evaluate(request('t'), { signal })).toMatchObject({
      code: 'POLICY_ERROR',
    });
    expect(await denyOverrides([malformed, allowT]).evaluate(request('t'), { signal })).toMatchObject({
      code: 'POLICY_ERROR',
    });
  });
  test('configuration errors', () => {
    expect(() => denyOverrides([])).toThrow(ConfigurationError);
    expect(() => firstApplicable([{}] as never)).toThrow(ConfigurationError);
  });
});
