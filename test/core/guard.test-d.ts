import { expectTypeOf, test } from 'vitest';
import {
  createGuard,
  type GuardedTool,
  guard,
  rules,
  type ToolCallOptions,
  type ToolDenial,
} from '../../src/index.ts';

const policy = rules([]);

test('a guarded function keeps its argument and return types', () => {
  const tg = createGuard({ policy });
  const refund = tg.guard(async (args: { orderId: string; amount: number }) => ({ refunded: args.amount }), {
    name: 'payments.refund',
  });
  expectTypeOf(refund).parameter(0).toEqualTypeOf<{ orderId: string; amount: number }>();
  expectTypeOf(refund).returns.toEqualTypeOf<Promise<{ refunded: number }>>();
  expectTypeOf(refund.toolName).toEqualTypeOf<string>();
  // @ts-expect-error wrong argument type
  void refund({ orderId: 1, amount: 2 });
});

test('sync functions become async, and the tool receives call options', () => {
  const tg = createGuard({ policy });
  const sync = tg.guard(
    (args: { n: number }, options) => {
      expectTypeOf(options).toEqualTypeOf<ToolCallOptions>();
      return args.n * 2;
    },
    { name: 'double' },
  );
  expectTypeOf(sync).returns.toEqualTypeOf<Promise<number>>();
});

test("onDeny: 'return' adds ToolDenial to the result type", () => {
  const tg = createGuard({ policy, onDeny: 'return' });
  const tool = tg.guard(async () => 'ok' as const, { name: 't' });
  expectTypeOf(tool).returns.toEqualTypeOf<Promise<'ok' | ToolDenial>>();
  const oneOff = guard(async (args: { q: string }) => args.q.length, { name: 'q', policy, onDeny: 'return' });
  expectTypeOf(oneOff).toEqualTypeOf<GuardedTool<{ q: string }, number, 'return'>>();
});

test('a tool receives its secrets by name; withCredential returns what its function returns', () => {
  const tg = createGuard({ policy });
  tg.guard(
    (_args: { orderId: string }, { secrets, context }) => {
      expectTypeOf(secrets).toEqualTypeOf<Readonly<Record<string, string>>>();
      expectTypeOf(secrets.stripe).toEqualTypeOf<string | undefined>();
      expectTypeOf(context.verified).toEqualTypeOf<boolean | undefined>();
      expectTypeOf(context.credentialId).toEqualTypeOf<string | undefined>();
    },
    { name: 'payments.refund', secrets: ['stripe'] },
  );
  expectTypeOf(tg.withCredential('token', () => 42)).toEqualTypeOf<number>();
});
