import { describe, expect, test } from 'vitest';
import { ConfigurationError } from '../../src/errors.ts';
import { rules } from '../../src/policy/rules.ts';
import { parseInstant } from '../../src/policy/schedule.ts';

// Instants of the policy language are checked against the calendar: Date.parse rolls an impossible
// date over (2026-02-31 → 2026-03-03), so a schedule could allow days nobody wrote.
const IMPOSSIBLE = [
  '2026-02-31T00:00:00Z',
  '2026-04-31T00:00:00Z',
  '2025-02-29T12:00:00Z',
  '2100-02-29T00:00:00Z',
  '2026-13-01T00:00:00Z',
  '2026-00-10T00:00:00Z',
  '2026-01-00T00:00:00Z',
  '2026-01-01T24:00:00Z',
  '2026-01-01T12:60:00Z',
  '2026-01-01T12:00:60Z',
  '2026-01-01T12:00:00+24:00',
  '2026-01-01T12:00:00+01:60',
];

describe('parseInstant', () => {
  test.each(IMPOSSIBLE)('refuses %s', (text) => {
    expect(() => parseInstant(text, 'x')).toThrow(ConfigurationError);
  });

  test.each([
    '2024-02-29T00:00:00Z',
    '2000-02-29T23:59:59.999Z',
    '2026-12-31T23:59:59+14:00',
    '2026-03-01T09:00+01:00',
    '2026-01-01T00:00:00.5-05:30',
  ])('reads %s as Date.parse does', (text) => {
    expect(parseInstant(text, 'x')).toBe(Date.parse(text));
  });

  test('epoch ms pass; a non-finite number or no offset is refused', () => {
    expect(parseInstant(1_700_000_000_000, 'x')).toBe(1_700_000_000_000);
    expect(() => parseInstant(Number.NaN, 'x')).toThrow(ConfigurationError);
    expect(() => parseInstant('2026-01-01T00:00:00', 'x')).toThrow(ConfigurationError);
  });
});

describe('rules() refuses impossible instants at construction', () => {
  test.each(IMPOSSIBLE)('schedule.until %s', (until) => {
    expect(() =>
      rules([{ id: 'pay', effect: 'allow', tool: 'payments.refund', schedule: { until } }]),
    ).toThrow(ConfigurationError);
  });

  test('schedule.from, outside and expires too', () => {
    expect(() =>
      rules([{ id: 'a', effect: 'allow', tool: 't', schedule: { from: '2026-02-30T00:00:00Z' } }]),
    ).toThrow(ConfigurationError);
    expect(() =>
      rules([{ id: 'a', effect: 'allow', tool: 't', outside: { until: '2026-02-29T00:00:00Z' } }]),
    ).toThrow(ConfigurationError);
    expect(() => rules([{ id: 'a', effect: 'allow', tool: 't', expires: '2026-06-31T00:00:00Z' }])).toThrow(
      ConfigurationError,
    );
  });

  test('a real leap day is accepted and ends where written', () => {
    const policy = rules([
      { id: 'a', effect: 'allow', tool: 't', schedule: { until: '2028-02-29T12:00:00Z' } },
    ]);
    expect(policy.ruleIds).toEqual(['a']);
  });
});
