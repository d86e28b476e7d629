// The audit explorer (filters, analysis, records, export) and the detail of one call.
import { get, type SessionInfo } from './api.ts';
import { barList, seriesChart, timeChart } from './charts.ts';
import { duration, h, pretty, replace, time } from './dom.ts';

interface LogStatus {
  path: string;
  state: 'ok' | 'unchecked' | 'failed';
  records: number;
  checkpoints: number;
  keys: string[];
  code?: string;
  message?: string;
  file?: string;
  line?: number;
}

type Event = Record<string, unknown> & { ts: number; type: string; _hashOk: boolean };

interface AuditPage {
  total: number;
  events: Event[];
  logs: LogStatus[];
  analysis: {
    bucketMs: number;
    buckets: {
      start: number;
      calls: number;
      denied: number;
      byCode: Record<string, number>;
      byRule: Record<string, number>;
    }[];
    totals: { calls: number; denied: number };
    deniedByCode: Record<string, number>;
    deniedByRule: Record<string, number>;
    topAgents: { name: string; calls: number; denied: number }[];
    topTools: { name: string; calls: number; denied: number }[];
    approvalLatency: { answers: number; medianMs?: number; p90Ms?: number; maxMs?: number; timedOut: number };
    anomalies: { kind: string; message: string }[];
  };
}

const FILTERS = ['tool', 'agent', 'principal', 'code', 'rule'] as const;

/** The verification badges of the logs. */
export function logBadges(logs: LogStatus[]): HTMLElement {
  return h(
    'ul',
    { class: 'logs' },
    ...logs.map((log) =>
      h(
        'li',
        {
          class: `badge ${log.state === 'ok' ? 'good' : log.state === 'failed' ? 'bad' : 'warn'}`,
          'data-state': log.state,
        },
        log.state === 'ok'
          ? `✔ ${log.path}: chain intact, ${log.records} records, ${log.checkpoints} checkpoints signed by ${log.keys.join(', ') || 'no key (none yet)'}`
          : log.state === 'failed'
            ? `✖ ${log.path}: ${log.code}: ${log.message} (${log.file}:${log.line})`
            : `⚠ ${log.path}: ${log.message}`,
      ),
    ),
  );
}

function summary(event: Event): string {
  if (event.type === 'decision')
    return `${String(event.decision).toUpperCase()}${event.code ? ` ${String(event.code)}` : ''}`;
  if (event.type === 'approval-response')
    return event.approved === true
      ? `approved by ${String(event.approver)}`
      : event.approved === false
        ? `denied by ${String(event.approver)}`
        : String(event.code ?? '');
  if (event.type === 'result') return `${String(event.outcome)} in ${Number(event.durationMs).toFixed(1)} ms`;
  if (event.type === 'console')
    return `${String(event.action)} ${String(event.outcome)} by ${String(event.account)}`;
  if (event.type === 'access')
    return [event.action, event.status, event.code, event.reason]
      .filter((part) => part !== undefined)
      .map(String)
      .join(' ');
  return String(event.reason ?? '');
}

/** Renders the explorer; returns a stop function. */
export function renderAudit(main: HTMLElement, session: SessionInfo): () => void {
  if (!session.features.audit) {
    replace(
      main,
      h('h1', {}, 'Audit'),
      h('p', {}, 'No audit files are configured (option audit, or --audit).'),
    );
    return () => {};
  }
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
  const text = (name: string, label: string, type = 'text') => {
    const input = h('input', { id: `f-${name}`, name, type, value: params.get(name) ?? '' });
    inputs.set(name, input);
    return h('div', { class: 'filter' }, h('label', { for: `f-${name}` }, label), input);
  };
  const select = (name: string, label: string, options: string[]) => {
    const input = h(
      'select',
      { id: `f-${name}`, name },
      ...options.map((o) => h('option', { value: o, selected: params.get(name) === o }, o || 'any')),
    );
    inputs.set(name, input);
    return h('div', { class: 'filter' }, h('label', { for: `f-${name}` }, label), input);
  };
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Filters' },
    text('from', 'From', 'datetime-local'),
    text('to', 'To', 'datetime-local'),
    ...FILTERS.map((name) => text(name, name[0]!.toUpperCase() + name.slice(1))),
    select('decision', 'Decision', ['', 'allow', 'deny']),
    select('type', 'Type', [
      '',
      'decision',
      'approval-request',
      'approval-response',
      'grant-used',
      'result',
      'suspension',
      'identity',
      'access',
      'console',
      'policy-reload',
    ]),
    h('button', { type: 'submit' }, 'Apply'),
  );
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  replace(main, h('h1', {}, 'Audit'), form, body);
  const query = () => {
    const q = new URLSearchParams();
    for (const [name, input] of inputs) {
      if (input.value === '') continue;
      q.set(name, name === 'from' || name === 'to' ? String(new Date(input.value).getTime()) : input.value);
    }
    return q.toString();
  };
  const load = async () => {
    const page = await get<AuditPage>(`api/audit?${query()}`);
    drawAudit(body, page, query());
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void load();
  });
  void load().catch((error: Error) =>
    replace(body, h('p', { class: 'error', role: 'alert' }, error.message)),
  );
  const timer = setInterval(() => void load().catch(() => undefined), 10_000);
  return () => clearInterval(timer);
}

function drawAudit(body: HTMLElement, page: AuditPage, query: string): void {
  const a = page.analysis;
  const latency = a.approvalLatency;
  const rows = page.events.map((event) =>
    h(
      'tr',
      { class: event._hashOk ? '' : 'broken' },
      h('td', {}, time(event.ts)),
      h('td', {}, event.type),
      h('td', {}, String(event.tool ?? event.forTool ?? '')),
      h('td', {}, String(event.agent ?? event.account ?? '')),
      h('td', {}, String(event.principal ?? '')),
      h('td', {}, summary(event)),
      h(
        'td',
        {},
        typeof (event.callId ?? event.forCallId) === 'string'
          ? h(
              'a',
              { href: `#/call/${encodeURIComponent(String(event.callId ?? event.forCallId))}` },
              'details',
            )
          : '',
      ),
    ),
  );
  replace(
    body,
    h(
      'section',
      { 'aria-labelledby': 'h-verify' },
      h('h2', { id: 'h-verify' }, 'Verification'),
      logBadges(page.logs),
    ),
    h(
      'section',
      { 'aria-labelledby': 'h-analysis' },
      h('h2', { id: 'h-analysis' }, 'Analysis'),
      h('p', {}, `${a.totals.calls} calls, ${a.totals.denied} denied.`),
      timeChart(a.buckets, a.bucketMs, 'Calls and denials over time'),
      h(
        'div',
        { class: 'grid' },
        seriesChart(a.buckets, 'byCode', 'Denials over time by code'),
        seriesChart(a.buckets, 'byRule', 'Denials over time by rule'),
      ),
      h(
        'div',
        { class: 'grid' },
        barList(a.deniedByCode, 'Denials by code'),
        barList(a.deniedByRule, 'Denials by rule'),
      ),
      h(
        'div',
        { class: 'grid' },
        barList(Object.fromEntries(a.topAgents.map((x) => [x.name, x.calls])), 'Top agents (calls)'),
        barList(Object.fromEntries(a.topTools.map((x) => [x.name, x.calls])), 'Top tools (calls)'),
      ),
      h(
        'p',
        {},
        latency.answers === 0
          ? 'No answered approvals.'
          : `Approval latency: median ${duration(latency.medianMs ?? 0)}, 90th percentile ${duration(latency.p90Ms ?? 0)}, longest ${duration(latency.maxMs ?? 0)} (${latency.answers} answers, ${latency.timedOut} timed out).`,
      ),
      h('h3', {}, 'Worth a look'),
      a.anomalies.length === 0
        ? h('p', {}, 'Nothing unusual.')
        : h('ul', { class: 'anomalies' }, ...a.anomalies.map((x) => h('li', {}, x.message))),
    ),
    h(
      'section',
      { 'aria-labelledby': 'h-records' },
      h('h2', { id: 'h-records' }, `Records (${page.total}, newest first)`),
      h(
        'p',
        {},
        'Export the filtered records: ',
        h('a', { href: `api/audit/export?${query}`, download: 'toolgate-audit.jsonl' }, 'JSON lines'),
        ' · ',
        h('a', { href: `api/audit/export?${query}&format=csv`, download: 'toolgate-audit.csv' }, 'CSV'),
      ),
      h(
        'table',
        { class: 'records' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['Time', 'Type', 'Tool', 'Agent / account', 'Principal', 'What', 'Call'].map((c) =>
              h('th', { scope: 'col' }, c),
            ),
          ),
        ),
        h('tbody', {}, ...rows),
      ),
    ),
  );
}

/** The timeline of one call. */
export function renderCall(main: HTMLElement, callId: string): void {
  replace(main, h('h1', {}, 'Call ', h('code', {}, callId)), h('p', { class: 'muted' }, 'Loading…'));
  void get<{
    events: Event[];
    argsHash?: string;
    verified: boolean;
    unchecked: boolean;
    problem?: string;
    logs: LogStatus[];
  }>(`api/calls/${encodeURIComponent(callId)}`).then(
    (call) => {
      const first = call.events[0]?.ts ?? 0;
      replace(
        main,
        h('h1', {}, 'Call ', h('code', {}, callId)),
        h('p', {}, 'Args hash ', h('code', {}, call.argsHash ?? '(none)')),
        h(
          'p',
          {
            class: `badge ${call.verified ? 'good' : call.problem ? 'bad' : 'warn'}`,
            'data-state': call.verified ? 'ok' : call.problem ? 'failed' : 'unchecked',
          },
          call.verified
            ? '✔ Its records verify'
            : call.problem
              ? `✖ ${call.problem}`
              : '⚠ Chain intact; signatures unchecked (no keys)',
        ),
        h(
          'ol',
          { class: 'timeline' },
          ...call.events.map((event) =>
            h(
              'li',
              {},
              h(
                'h2',
                {},
                `${event.type} `,
                h('span', { class: 'muted' }, `+${duration(event.ts - first)} · ${time(event.ts)}`),
              ),
              h('p', {}, summary(event)),
              event.rules !== undefined
                ? h('p', {}, `rules: ${(event.rules as string[]).join(', ') || '(none)'}`)
                : null,
              event.reason !== undefined ? h('p', {}, `reason: ${String(event.reason)}`) : null,
              event.rule !== undefined ? h('p', {}, `rule: ${String(event.rule)}`) : null,
              Array.isArray(event.failed) && event.failed.length > 0
                ? h(
                    'ul',
                    { class: 'failed', 'aria-label': 'Failed conditions' },
                    ...(event.failed as unknown[]).map((entry) => h('li', {}, conditionText(entry))),
                  )
                : null,
              event.type === 'result' && event.outputBytes !== undefined
                ? h('p', {}, `output: ${String(event.outputBytes)} bytes`)
                : null,
              event.args !== undefined ? h('pre', { class: 'args', tabindex: 0 }, pretty(event.args)) : null,
            ),
          ),
        ),
      );
    },
    (error: Error) =>
      replace(main, h('h1', {}, 'Call'), h('p', { class: 'error', role: 'alert' }, error.message)),
  );
}

/** One failed condition of a denial record, as text (the record holds it redacted already). */
function conditionText(entry: unknown): string {
  if (typeof entry !== 'object' || entry === null) return String(entry);
  const { rule, path, expected, actual, problem } = entry as Record<string, unknown>;
  const found = problem !== undefined ? String(problem) : `expected ${String(expected)}`;
  const was = actual === undefined ? ' (missing)' : ` (was ${JSON.stringify(actual)})`;
  return `${rule === undefined ? '' : `${String(rule)}: `}${String(path)} ${found}${problem === undefined ? was : ''}`;
}
