import { describe, expect, it } from 'vitest';
import { analyse, filterOf, matcher, toCsv } from '../../src/console/analysis.ts';
import type { ReadEvent } from '../../src/console/audit-reader.ts';

const T0 = Date.UTC(2026, 0, 1);
let seq = 0;
const at = (event: Record<string, unknown>): ReadEvent => ({ event, log: 0, seq: seq++, hashOk: true });
const decision = (ts: number, agent: string, deny?: string, rules: string[] = ['r']) =>
  at({ type: 'decision', ts, tool: 'db.query', agent, decision: deny ? 'deny' : 'allow', code: deny, rules });

describe('audit analysis', () => {
  it('counts calls and denials over time, by code and rule, and ranks agents and tools', () => {
    const events = [
      decision(T0, 'a'),
      decision(T0 + 1000, 'a', 'DENIED_BY_RULE', ['no-deletes']),
      decision(T0 + 120_000, 'b', 'NO_MATCHING_RULE', []),
    ];
    const result = analyse(events);
    expect(result.totals).toEqual({ calls: 3, denied: 2 });
    expect(result.bucketMs).toBe(60_000);
    expect(result.buckets.map((b) => [b.calls, b.denied])).toEqual([
      [2, 1],
      [0, 0],
      [1, 1],
    ]);
    expect(result.deniedByCode).toEqual({ DENIED_BY_RULE: 1, NO_MATCHING_RULE: 1 });
    expect(result.deniedByRule).toEqual({ 'no-deletes': 1 });
    expect(result.topAgents[0]).toEqual({ name: 'a', calls: 2, denied: 1 });
  });

  it('finds a denial spike, an agent hitting limits, one mostly denied, and approvals left to time out', () => {
    const events: ReadEvent[] = [];
    for (let minute = 0; minute < 10; minute++) events.push(decision(T0 + minute * 60_000, 'calm'));
    for (let i = 0; i < 8; i++) events.push(decision(T0 + 5 * 60_000 + i, 'loop', 'RATE_LIMITED'));
    events.push(at({ type: 'approval-request', ts: T0, requestId: 'q1' }));
    events.push(
      at({ type: 'approval-response', ts: T0 + 4000, requestId: 'q1', approver: 'dana', approved: true }),
    );
    events.push(at({ type: 'approval-request', ts: T0, requestId: 'q2' }));
    events.push(at({ type: 'approval-response', ts: T0 + 9000, requestId: 'q2', code: 'APPROVAL_TIMEOUT' }));
    const result = analyse(events);
    const kinds = result.anomalies.map((a) => a.kind).sort();
    expect(kinds).toEqual(['approval-timeouts', 'denial-spike', 'limits', 'mostly-denied']);
    expect(result.approvalLatency).toMatchObject({ answers: 1, medianMs: 4000, timedOut: 1 });
  });

  it('filters with globs and exact fields, and refuses malformed filters', () => {
    const test = matcher(filterOf(new URLSearchParams('tool=db.*&decision=deny&code=RATE_LIMITED')));
    expect(test({ type: 'decision', tool: 'db.query', decision: 'deny', code: 'RATE_LIMITED', ts: 1 })).toBe(
      true,
    );
    expect(test({ type: 'decision', tool: 'fs.read', decision: 'deny', code: 'RATE_LIMITED', ts: 1 })).toBe(
      false,
    );
    expect(() => filterOf(new URLSearchParams('decision=maybe'))).toThrow();
    expect(() => filterOf(new URLSearchParams('from=yesterday'))).toThrow();
  });

  it('CSV cells that a spreadsheet would run as formulas are neutralised', () => {
    const csv = toCsv([
      at({ type: 'decision', ts: T0, tool: '=HYPERLINK("http://x")', reason: '+1, "two"' }),
    ]);
    expect(csv).toContain(`"'=HYPERLINK(""http://x"")"`);
    expect(csv).toContain(`"'+1, ""two"""`);
  });
});
