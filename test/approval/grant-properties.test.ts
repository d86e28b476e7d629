import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { GrantManager } from '../../src/approval/grants.ts';
import {
  type ApprovalRequirements,
  type ApprovalResponse,
  callbackApprover,
  hashJson,
  memoryStore,
  type StateStore,
} from '../../src/index.ts';
import { compileWhen } from '../../src/policy/conditions.ts';
import { ask, engine, setup } from './helpers.ts';

// G15 as properties: over random requirements, remember scopes and principals, a grant answers an
// ask only if a fresh approval by the grant's approvers would have satisfied it (and an approver
// counts for a call of their own only when the grant is kept to them), and check() agrees with the
// call.

const JOSE_NFC = 'finance:jos\u00e9';
const JOSE_NFD = 'finance:jose\u0301';
const IDENTITIES = ['finance:alice', 'finance:bob', 'ops:carol', 'user:1', JOSE_NFC];
const PRINCIPALS = [...IDENTITIES, JOSE_NFD, undefined];
const GLOBS = ['finance:*', 'ops:*', 'user:*', 'finance:alice', '*', 'finance:jos\u00e9'];

const requirement: fc.Arbitrary<ApprovalRequirements> = fc.record(
  {
    quorum: fc.integer({ min: 1, max: 3 }),
    approvers: fc.uniqueArray(fc.constantFrom(...GLOBS), { minLength: 1, maxLength: 2 }),
    separationOfDuties: fc.boolean(),
  },
  { requiredKeys: [] },
);

/** The obvious reading of the approval rules, written apart from the guard. */
function qualifies(r: ApprovalRequirements, approver: string, principal: string | undefined): boolean {
  const name = approver.normalize('NFC');
  const glob = (g: string) => (g.endsWith('*') ? name.startsWith(g.slice(0, -1)) : name === g);
  if (r.approvers !== undefined && !r.approvers.some(glob)) return false;
  return !(r.separationOfDuties === true && principal?.normalize('NFC') === name);
}

const refuse = (r: { id: string }) =>
  ({ requestId: r.id, approved: false, approver: 'nobody', reason: 'asked' }) as ApprovalResponse;

/** Whether a fresh approval, answered in turn by `approvers`, lets the call run (the real approval step). */
async function freshApproval(
  r: ApprovalRequirements,
  approvers: readonly string[],
  principal: string | undefined,
): Promise<boolean> {
  let round = 0;
  const { tg } = setup({
    policy: engine(() => ask(r)),
    approver: callbackApprover(
      (req) =>
        ({ requestId: req.id, approved: true, approver: approvers[round++] ?? 'nobody' }) as ApprovalResponse,
    ),
  });
  const context = principal === undefined ? {} : { principal };
  return (await tg.guard(() => 'ran', { name: 't' })({ n: 0 }, { context })) === 'ran';
}

function subsets<T>(items: readonly T[], size: number): T[][] {
  if (size === 0) return [[]];
  if (items.length < size) return [];
  const [first, ...rest] = items;
  return [...subsets(rest, size - 1).map((s) => [first!, ...s]), ...subsets(rest, size)];
}

describe('G15 properties', () => {
  test('a stored grant answers an ask iff a fresh approval by its approvers would (and check() agrees)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          source: fc.constantFrom('host', 'approval'),
          approvedBy: fc.uniqueArray(fc.constantFrom(...IDENTITIES), { minLength: 1, maxLength: 3 }),
          approvedUnder: requirement,
          grantPrincipal: fc.constantFrom(...IDENTITIES, 'any'),
          grantArgs: fc.constantFrom('same', 'any'),
          later: requirement,
          principal: fc.constantFrom(...PRINCIPALS),
          n: fc.constantFrom(0, 1),
        }),
        async (c) => {
          const store: StateStore = memoryStore();
          const now = Date.now();
          const scope: Record<string, string> = {};
          if (c.grantPrincipal !== 'any') scope.principal = c.grantPrincipal;
          if (c.source === 'host') {
            const { tg } = setup({ policy: engine(() => ask()), store });
            await tg.grants.issue({
              tool: 't',
              ...scope,
              ...(c.grantArgs === 'same' ? { argsHash: hashJson({ n: 0 }) } : {}),
              for: '1h',
            });
          } else {
            const manager = new GrantManager({
              store,
              now: () => now,
              generateId: () => `p${Math.random().toString(36).slice(2)}`,
              storeTimeoutMs: 1000,
              compileWhen,
            });
            await manager.remember({
              tool: 't',
              ...scope,
              ...(c.grantArgs === 'same' ? { argsHash: hashJson({ n: 0 }) } : {}),
              expiresAt: now + 3_600_000,
              issuedBy: c.approvedBy[0]!,
              approval: {
                approvedBy: c.approvedBy,
                quorum: c.approvedUnder.quorum ?? 1,
                ...(c.approvedUnder.approvers === undefined ? {} : { approvers: c.approvedUnder.approvers }),
                separationOfDuties: c.approvedUnder.separationOfDuties === true,
              },
            });
          }
          let asked = 0;
          const { tg } = setup({
            policy: engine(() => ask(c.later)),
            approver: callbackApprover((r) => {
              asked += 1;
              return refuse(r);
            }),
            store,
          });
          const context = c.principal === undefined ? {} : { principal: c.principal };
          const call = tg.guard(() => 'ran', { name: 't' });
          const checked = await tg.check('t', { n: c.n }, context);
          const ran = (await call({ n: c.n }, { context })) === 'ran';

          const inScope =
            (c.grantArgs === 'any' || c.n === 0) &&
            (c.grantPrincipal === 'any' || c.grantPrincipal === c.principal?.normalize('NFC'));
          let meets: boolean;
          if (c.source === 'host') {
            meets =
              (c.later.quorum ?? 1) === 1 &&
              c.later.approvers === undefined &&
              c.later.separationOfDuties !== true;
          } else {
            meets = false;
            // An approver counts for a call of their own only if the grant is kept to them.
            const eligible = c.approvedBy.filter(
              (name) => c.principal?.normalize('NFC') !== name || c.grantPrincipal === name,
            );
            for (const group of subsets(eligible, c.later.quorum ?? 1)) {
              if (await freshApproval(c.later, group, c.principal)) {
                meets = true;
                break;
              }
            }
          }
          expect(ran).toBe(inScope && meets);
          expect(asked).toBe(ran ? 0 : 1);
          expect(checked.type).toBe(ran ? 'allow' : 'ask');
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a remembered approval answers a later ask only as its approver could afresh', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          first: requirement,
          firstPrincipal: fc.constantFrom(...PRINCIPALS),
          approver: fc.constantFrom(...IDENTITIES, JOSE_NFD),
          scopePrincipal: fc.constantFrom('same', 'any'),
          scopeArgs: fc.constantFrom('same', 'any'),
          later: requirement,
          principal: fc.constantFrom(...PRINCIPALS),
          n: fc.constantFrom(0, 1),
        }),
        async (c) => {
          let current: ApprovalRequirements = c.first;
          let round = 0;
          const { tg } = setup({
            policy: engine(() => ask(current)),
            approver: callbackApprover((r) => {
              round += 1;
              return round === 1
                ? ({
                    requestId: r.id,
                    approved: true,
                    approver: c.approver,
                    remember: { for: '1h', scope: { principal: c.scopePrincipal, args: c.scopeArgs } },
                  } as ApprovalResponse)
                : refuse(r);
            }),
          });
          const call = tg.guard(() => 'ran', { name: 't' });
          const ctx = (p: string | undefined) => ({ context: p === undefined ? {} : { principal: p } });
          const first = await call({ n: 0 }, ctx(c.firstPrincipal));
          // Remembered only when one approval settled the first call.
          const granted = (c.first.quorum ?? 1) === 1 && qualifies(c.first, c.approver, c.firstPrincipal);
          expect(first === 'ran').toBe(granted);

          current = c.later;
          const roundsBefore = round;
          const checked = await tg.check('t', { n: c.n }, ctx(c.principal).context);
          const ran = (await call({ n: c.n }, ctx(c.principal))) === 'ran';
          const inScope =
            (c.scopeArgs === 'any' || c.n === 0) &&
            (c.scopePrincipal === 'any' ||
              c.principal?.normalize('NFC') === c.firstPrincipal?.normalize('NFC'));
          const approver = c.approver.normalize('NFC');
          // Approving someone else's call never lets the approver run their own on the grant.
          const ownCall =
            c.principal?.normalize('NFC') === approver &&
            !(c.scopePrincipal === 'same' && c.firstPrincipal?.normalize('NFC') === approver);
          const meets =
            (c.later.quorum ?? 1) === 1 && qualifies(c.later, c.approver, c.principal) && !ownCall;
          expect(ran).toBe(granted && inScope && meets);
          expect(round - roundsBefore).toBe(ran ? 0 : 1);
          expect(checked.type).toBe(ran ? 'allow' : 'ask');
        },
      ),
      { numRuns: 300 },
    );
  });
});
