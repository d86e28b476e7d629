import { expectTypeOf, test } from 'vitest';
import { type Decision, type Rule, type RulesEngine, rules, urlScope } from '../../src/index.ts';
import { sqlScope } from '../../src/sql/index.ts';

test('the DESIGN.md example type-checks', () => {
  const engine = rules([
    {
      id: 'read-orders',
      effect: 'allow',
      tool: 'db.query',
      agent: 'support-*',
      when: {
        'args.sql': sqlScope({ dialect: 'postgresql', tables: ['orders'], readOnly: true, maxRows: 500 }),
      },
    },
    {
      id: 'refund-small',
      effect: 'allow',
      tool: 'payments.refund',
      when: { 'args.amount': { lte: 100 } },
      limit: { rate: '20/1h', budget: { sum: 'args.amount', max: 1000, per: '1d' } },
    },
    {
      id: 'refund-large',
      effect: 'ask',
      tool: 'payments.refund',
      when: { 'args.amount': { gt: 100 } },
      approval: { timeout: '10m', quorum: 1 },
    },
    {
      id: 'office-hours',
      effect: 'deny',
      tool: 'payments.*',
      outside: { hours: '08:00-18:00', tz: 'Europe/Berlin' },
    },
    { id: 'no-deletes', effect: 'deny', tool: '*.delete*' },
    {
      id: 'fetch',
      effect: 'allow',
      tool: 'http.get',
      when: { any: [{ 'args.url': urlScope({}) }, (request) => request.depth === 0] },
    },
  ]);
  expectTypeOf(engine).toEqualTypeOf<RulesEngine>();
  expectTypeOf(engine.version).toBeString();
  expectTypeOf<ReturnType<RulesEngine['evaluate']>>().toMatchTypeOf<Decision | PromiseLike<Decision>>();
});

test('invalid rules do not type-check', () => {
  // @ts-expect-error effect must be allow | deny | ask
  const bad: Rule = { id: 'x', effect: 'permit' };
  // @ts-expect-error paths start with args., context. or tool.
  const badPath: Rule = { id: 'y', effect: 'allow', when: { 'body.x': { eq: 1 } } };
  void bad;
  void badPath;
});
