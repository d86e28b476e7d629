import { compileGlob } from '../_internal/glob.ts';
import type { ReadEvent } from './audit-reader.ts';
import { HttpError } from './http.ts';

/** Filters of the audit explorer (query parameters of the same names). */
export interface AuditFilter {
  from?: number;
  to?: number;
  tool?: string;
  agent?: string;
  principal?: string;
  decision?: 'allow' | 'deny';
  code?: string;
  rule?: string;
  type?: string;
}

const LIMIT_CODES = new Set(['RATE_LIMITED', 'BUDGET_EXCEEDED', 'CONCURRENCY_LIMITED']);
const BUCKETS = [60_000, 300_000, 900_000, 3_600_000, 21_600_000, 86_400_000];
const MAX_BUCKETS = 60;

/** Reads the filter from query parameters (400 on a malformed one). */
export function filterOf(params: URLSearchParams): AuditFilter {
  const filter: AuditFilter = {};
  const time = (name: 'from' | 'to') => {
    const text = params.get(name);
    if (text === null || text === '') return;
    const value = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
    if (!Number.isFinite(value)) throw new HttpError(400, `${name} must be a time`);
    filter[name] = value;
  };
  time('from');
  time('to');
  for (const name of ['tool', 'agent', 'principal', 'code', 'rule', 'type'] as const) {
    const value = params.get(name);
    if (value !== null && value !== '') {
      if (value.length > 200) throw new HttpError(400, `${name} is too long`);
      filter[name] = value;
    }
  }
  const decision = params.get('decision');
  if (decision === 'allow' || decision === 'deny') filter.decision = decision;
  else if (decision !== null && decision !== '') throw new HttpError(400, 'decision must be allow or deny');
  return filter;
}

/** A predicate for the filter: globs for tool, agent and principal, exact matches for the rest. */
export function matcher(filter: AuditFilter): (event: Record<string, unknown>) => boolean {
  const glob = (pattern: string | undefined) => (pattern === undefined ? undefined : compileGlob(pattern));
  const tool = glob(filter.tool);
  const agent = glob(filter.agent);
  const principal = glob(filter.principal);
  return (event) => {
    const ts = Number(event.ts);
    if (filter.from !== undefined && !(ts >= filter.from)) return false;
    if (filter.to !== undefined && !(ts <= filter.to)) return false;
    if (tool !== undefined && !tool.test(String(event.tool ?? event.forTool ?? ''))) return false;
    if (agent !== undefined && !agent.test(String(event.agent ?? ''))) return false;
    if (principal !== undefined && !principal.test(String(event.principal ?? ''))) return false;
    if (filter.type !== undefined && event.type !== filter.type) return false;
    if (filter.decision !== undefined && !(event.type === 'decision' && event.decision === filter.decision))
      return false;
    if (filter.code !== undefined && event.code !== filter.code) return false;
    if (filter.rule !== undefined && !(Array.isArray(event.rules) && event.rules.includes(filter.rule)))
      return false;
    return true;
  };
}

/** Counts by key, largest first, at most `top`. */
function ranked(counts: Map<string, { calls: number; denied: number }>, top: number): Ranked[] {
  return [...counts.entries()]
    .map(([name, c]) => ({ name, ...c }))
    .sort((a, b) => b.calls - a.calls || (a.name < b.name ? -1 : 1))
    .slice(0, top);
}

function median(sorted: number[], q = 0.5): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** One interval of the calls-over-time chart. */
export interface Bucket {
  readonly start: number;
  calls: number;
  denied: number;
  readonly byCode: Record<string, number>;
  readonly byRule: Record<string, number>;
}

/** Calls and denials of one agent or tool. */
export interface Ranked {
  readonly name: string;
  readonly calls: number;
  readonly denied: number;
}

/** Something in the trail worth a look. */
export interface Anomaly {
  readonly kind: string;
  readonly message: string;
  readonly at?: number;
  readonly agent?: string;
}

/** The analysis of a set of records. */
export interface Analysis {
  readonly bucketMs: number;
  readonly buckets: readonly Bucket[];
  readonly totals: { readonly calls: number; readonly denied: number };
  readonly deniedByCode: Record<string, number>;
  readonly deniedByRule: Record<string, number>;
  readonly topAgents: readonly Ranked[];
  readonly topTools: readonly Ranked[];
  readonly approvalLatency: {
    readonly answers: number;
    readonly medianMs: number | undefined;
    readonly p90Ms: number | undefined;
    readonly maxMs: number | undefined;
    readonly timedOut: number;
  };
  readonly anomalies: readonly Anomaly[];
}

/** The analysis page's numbers for the filtered events. */
export function analyse(events: readonly ReadEvent[]): Analysis {
  const decisions = events.filter((e) => e.event.type === 'decision');
  const times = decisions.map((e) => Number(e.event.ts)).filter(Number.isFinite);
  const first = times.length === 0 ? 0 : Math.min(...times);
  const last = times.length === 0 ? 0 : Math.max(...times);
  const bucketMs = BUCKETS.find((size) => (last - first) / size < MAX_BUCKETS) ?? 86_400_000;
  const start = Math.floor(first / bucketMs) * bucketMs;
  const count = times.length === 0 ? 0 : Math.floor((last - start) / bucketMs) + 1;
  const buckets: Bucket[] = Array.from({ length: Math.min(count, 400) }, (_, i) => ({
    start: start + i * bucketMs,
    calls: 0,
    denied: 0,
    byCode: {},
    byRule: {},
  }));
  const byRule = new Map<string, number>();
  const byCode = new Map<string, number>();
  const agents = new Map<string, { calls: number; denied: number }>();
  const tools = new Map<string, { calls: number; denied: number }>();
  const limitHits = new Map<string, number>();
  for (const { event } of decisions) {
    const bucket = buckets[Math.floor((Number(event.ts) - start) / bucketMs)];
    const denied = event.decision === 'deny';
    const code = typeof event.code === 'string' ? event.code : undefined;
    if (bucket !== undefined) {
      bucket.calls += 1;
      if (denied) {
        bucket.denied += 1;
        if (code !== undefined) bucket.byCode[code] = (bucket.byCode[code] ?? 0) + 1;
        for (const rule of Array.isArray(event.rules) ? (event.rules as string[]) : [])
          bucket.byRule[rule] = (bucket.byRule[rule] ?? 0) + 1;
      }
    }
    if (denied) {
      if (code !== undefined) byCode.set(code, (byCode.get(code) ?? 0) + 1);
      for (const rule of Array.isArray(event.rules) ? (event.rules as string[]) : [])
        byRule.set(rule, (byRule.get(rule) ?? 0) + 1);
    }
    for (const [map, key] of [
      [agents, String(event.agent ?? '(none)')],
      [tools, String(event.tool ?? '(none)')],
    ] as const) {
      const entry = map.get(key) ?? { calls: 0, denied: 0 };
      entry.calls += 1;
      if (denied) entry.denied += 1;
      map.set(key, entry);
    }
    if (code !== undefined && LIMIT_CODES.has(code)) {
      const agent = String(event.agent ?? '(none)');
      limitHits.set(agent, (limitHits.get(agent) ?? 0) + 1);
    }
  }
  const latency = approvalLatency(events);
  return {
    bucketMs,
    buckets,
    totals: { calls: decisions.length, denied: decisions.filter((e) => e.event.decision === 'deny').length },
    deniedByCode: Object.fromEntries([...byCode.entries()].sort((a, b) => b[1] - a[1])),
    deniedByRule: Object.fromEntries([...byRule.entries()].sort((a, b) => b[1] - a[1])),
    topAgents: ranked(agents, 10),
    topTools: ranked(tools, 10),
    approvalLatency: latency,
    anomalies: anomalies(buckets, agents, limitHits, latency.timedOut),
  };
}

/** Time from each approval request to its final answer, in ms. */
function approvalLatency(events: readonly ReadEvent[]): Analysis['approvalLatency'] {
  const asked = new Map<string, number>();
  const answered: number[] = [];
  let timedOut = 0;
  for (const { event } of events) {
    const id = typeof event.requestId === 'string' ? event.requestId : undefined;
    if (id === undefined) continue;
    if (event.type === 'approval-request') asked.set(id, Number(event.ts));
    else if (event.type === 'approval-response' && event.late !== true) {
      if (event.code === 'APPROVAL_TIMEOUT') timedOut += 1;
      const at = asked.get(id);
      if (at !== undefined && typeof event.approver === 'string') answered.push(Number(event.ts) - at);
    }
  }
  answered.sort((a, b) => a - b);
  return {
    answers: answered.length,
    medianMs: median(answered),
    p90Ms: median(answered, 0.9),
    maxMs: answered[answered.length - 1],
    timedOut,
  };
}

/** Things worth a look: a denial spike, an agent hitting limits, an agent mostly denied, approvals left to time out. */
function anomalies(
  buckets: readonly { start: number; denied: number }[],
  agents: Map<string, { calls: number; denied: number }>,
  limitHits: Map<string, number>,
  timedOut: number,
): Anomaly[] {
  const found: Anomaly[] = [];
  const denials = buckets.map((b) => b.denied).sort((a, b) => a - b);
  const typical = median(denials) ?? 0;
  for (const bucket of buckets) {
    if (bucket.denied >= 5 && bucket.denied > 3 * Math.max(1, typical))
      found.push({
        kind: 'denial-spike',
        message: `${bucket.denied} denials in one interval (typical: ${typical})`,
        at: bucket.start,
      });
  }
  for (const [agent, hits] of limitHits) {
    if (hits >= 3)
      found.push({
        kind: 'limits',
        message: `${agent} hit rate, budget or concurrency limits ${hits} times`,
        agent,
      });
  }
  for (const [agent, c] of agents) {
    if (c.calls >= 5 && c.denied / c.calls > 0.5)
      found.push({
        kind: 'mostly-denied',
        message: `${agent}: ${c.denied} of ${c.calls} calls denied`,
        agent,
      });
  }
  if (timedOut > 0)
    found.push({
      kind: 'approval-timeouts',
      message: `${timedOut} approval request(s) timed out unanswered`,
    });
  return found;
}

/** Records as CSV: one line per event, the common fields. */
export function toCsv(events: readonly ReadEvent[]): string {
  const columns = [
    'ts',
    'type',
    'callId',
    'tool',
    'agent',
    'principal',
    'intent',
    'decision',
    'code',
    'rules',
    'reason',
    'approver',
    'argsHash',
  ];
  const cell = (value: unknown) => {
    if (value === undefined || value === null) return '';
    let text = Array.isArray(value)
      ? value.join(' ')
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
    // Spreadsheets run cells that start with these as formulas.
    if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const lines = [columns.join(',')];
  for (const { event } of events) {
    lines.push(
      columns
        .map((column) =>
          column === 'ts'
            ? new Date(Number(event.ts)).toISOString()
            : cell(event[column] ?? (column === 'tool' ? event.forTool : undefined)),
        )
        .join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}
