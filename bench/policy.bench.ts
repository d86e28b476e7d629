// Policy decision latency: rules() with 10 / 1,000 / 10,000 rules (one rule per tool, plus globs),
// the same decisions through @cedar-policy/cedar-wasm (pre-parsed policy set, statefulIsAuthorized)
// and casbin (enforceSync), and sqlScope cold (every statement new) and warm (cached analysis).
import { preparsePolicySet, statefulIsAuthorized } from '@cedar-policy/cedar-wasm/nodejs';
import { newEnforcer, newModelFromString } from 'casbin';
import { type Rule, rules } from '../src/index.ts';
import { sqlScope } from '../src/sql/index.ts';
import type { Decision, ToolRequest } from '../src/types.ts';
import { type BenchRow, time } from './harness.ts';

const signal = new AbortController().signal;
const TARGET = 'tool-7';

function request(tool: string, args: Record<string, unknown>): ToolRequest {
  return Object.freeze({
    callId: 'bench',
    depth: 0,
    tool: Object.freeze({ name: tool }),
    args: Object.freeze(args) as ToolRequest['args'],
    argsHash: '',
    context: Object.freeze({ agent: 'support-bot', principal: 'user:42' }),
    now: Date.UTC(2026, 0, 5, 12),
  });
}

/** n rules: each tool has an allow with a condition; every tenth rule is a deny glob for another family. */
function ruleList(n: number): Rule[] {
  const list: Rule[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 10 === 9) list.push({ id: `deny-${i}`, effect: 'deny', tool: `family-${i}.*` });
    else
      list.push({
        id: `allow-${i}`,
        effect: 'allow',
        tool: `tool-${i}`,
        when: { 'args.amount': { lte: 100 } },
      });
  }
  list.push({ id: 'no-deletes', effect: 'deny', tool: '*.delete' });
  return list;
}

let cedarSets = 0;
function cedar(n: number): (amount: number) => string {
  const policies: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    policies[`p${i}`] =
      i % 10 === 9
        ? `forbid(principal, action, resource) when { context.tool like "family-${i}.*" };`
        : `permit(principal, action == Action::"tool-${i}", resource) when { context.args.amount <= 100 };`;
  }
  const id = `bench-${cedarSets++}`;
  const parsed = preparsePolicySet(id, { staticPolicies: policies } as never);
  if (parsed.type !== 'success') throw new Error('cedar: policies do not parse');
  return (amount) => {
    const answer = statefulIsAuthorized({
      principal: { type: 'Agent', id: 'support-bot' },
      action: { type: 'Action', id: TARGET },
      resource: { type: 'Tool', id: TARGET },
      context: { tool: TARGET, args: { amount } },
      preparsedPolicySetId: id,
      entities: [],
    } as never);
    if (answer.type !== 'success') throw new Error('cedar failed');
    return answer.response.decision;
  };
}

const CASBIN_MODEL = `
[request_definition]
r = sub, obj, act, amount

[policy_definition]
p = sub, obj, act

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.obj == p.obj && r.act == p.act && r.amount <= 100
`;

async function casbin(n: number): Promise<(amount: number) => boolean> {
  const enforcer = await newEnforcer(newModelFromString(CASBIN_MODEL));
  const lines: string[][] = [];
  for (let i = 0; i < n; i++) lines.push(['*', `tool-${i}`, 'call']);
  await enforcer.addPolicies(lines);
  return (amount) => enforcer.enforceSync('support-bot', TARGET, 'call', amount);
}

function expect(decision: Decision, type: Decision['type']): void {
  if (decision.type !== type) throw new Error(`expected ${type}, got ${decision.type}`);
}

export default async function policy(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const allowed = request(TARGET, { amount: 40 });
  for (const n of [10, 1000, 10_000]) {
    const engine = rules(ruleList(n));
    expect(engine.evaluate(allowed, { signal }) as Decision, 'allow');
    expect(engine.evaluate(request(TARGET, { amount: 400 }), { signal }) as Decision, 'deny');
    // Warm up so the first row does not carry JIT compilation.
    for (let k = 0; k < 200_000; k++) engine.evaluate(allowed, { signal });
    rows.push(await time(`policy.toolgate.rules-${n}`, () => engine.evaluate(allowed, { signal })));
  }
  for (const n of [10, 1000]) {
    const decide = cedar(n);
    if (decide(40) !== 'allow' || decide(400) !== 'deny') throw new Error('cedar: unexpected decision');
    rows.push(await time(`policy.cedar.rules-${n}`, () => decide(40)));
  }
  for (const n of [10, 1000]) {
    const decide = await casbin(n);
    if (!decide(40) || decide(400)) throw new Error('casbin: unexpected decision');
    rows.push(await time(`policy.casbin.rules-${n}`, () => decide(40)));
  }
  const scope = sqlScope({ dialect: 'postgresql', tables: ['orders', 'customers'], maxRows: 500 });
  const sqlRequest = request('db.query', {});
  const join = (i: number) =>
    `SELECT o.id, o.total, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id IN (SELECT id FROM orders WHERE total > ${i}) ORDER BY o.id LIMIT 10`;
  if (scope.test(join(0), sqlRequest) !== true) throw new Error('sqlScope: expected in scope');
  let i = 1;
  rows.push(await time('policy.sqlscope.cold', () => scope.test(join(i++), sqlRequest)));
  rows.push(await time('policy.sqlscope.warm', () => scope.test(join(0), sqlRequest)));
  return rows;
}
