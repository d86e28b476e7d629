import { analyse, filterOf, matcher, toCsv } from './analysis.ts';
import type { ReadEvent } from './audit-reader.ts';
import { policyView } from './control.ts';
import type { ConsoleContext, Exchange, Route } from './exchange.ts';
import { HttpError, json, readJsonObject, securityHeaders } from './http.ts';

const PAGE = 200;
const MAX_EXPORT = 100_000;

/** Audit explorer, call detail, export and control routes. */
export function auditRoutes(c: ConsoleContext): Route[] {
  const filtered = async (x: Exchange) => {
    const filter = filterOf(x.url.searchParams);
    const test = matcher(filter);
    return { filter, events: (await c.reader.events()).filter((e) => test(e.event)) };
  };
  const view = (e: ReadEvent) => ({ ...e.event, _log: e.log, _seq: e.seq, _hashOk: e.hashOk });

  return [
    {
      method: 'GET',
      pattern: /^\/api\/audit$/,
      role: 'viewer',
      run: async (x) => {
        const { events } = await filtered(x);
        const offset = Math.max(0, Number(x.url.searchParams.get('offset') ?? 0) || 0);
        const newest = events.slice().reverse();
        return json(
          {
            now: c.now(),
            total: events.length,
            offset,
            events: newest.slice(offset, offset + PAGE).map(view),
            analysis: analyse(events),
            logs: await c.reader.status(),
          },
          200,
          x.secure,
        );
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/audit\/status$/,
      role: 'viewer',
      run: async (x) => json({ logs: await c.reader.status() }, 200, x.secure),
    },
    {
      method: 'GET',
      pattern: /^\/api\/audit\/export$/,
      role: 'viewer',
      run: async (x) => {
        const { filter, events } = await filtered(x);
        if (events.length > MAX_EXPORT)
          throw new HttpError(
            413,
            `${events.length} records match; narrow the filter to at most ${MAX_EXPORT}`,
          );
        const csv = x.url.searchParams.get('format') === 'csv';
        await c.actions.write('export', x.session!, 'ok', {
          details: {
            filter: filter as Record<string, string | number>,
            records: events.length,
            format: csv ? 'csv' : 'jsonl',
          },
        });
        const headers = securityHeaders(x.secure);
        headers.set('content-type', csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
        headers.set('content-disposition', `attachment; filename="toolgate-audit.${csv ? 'csv' : 'jsonl'}"`);
        const body = csv ? toCsv(events) : events.map((e) => `${JSON.stringify(e.event)}\n`).join('');
        return new Response(body, { status: 200, headers });
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/calls\/([A-Za-z0-9_-]{1,128})$/,
      role: 'viewer',
      run: async (x) => {
        const callId = x.params[0]!;
        const all = await c.reader.events();
        const events = all.filter((e) => e.event.callId === callId || e.event.forCallId === callId);
        if (events.length === 0) throw new HttpError(404, 'no records of this call in the audit files');
        const logs = await c.reader.status();
        const own = events.filter((e) => e.event.callId === callId);
        const broken = own.find((e) => {
          const status = logs[e.log];
          return (
            !e.hashOk || (status?.state === 'failed' && (status.seq === undefined || e.seq >= status.seq))
          );
        });
        return json(
          {
            callId,
            events: events.map(view),
            argsHash: own.find((e) => e.event.type === 'decision')?.event.argsHash ?? own[0]?.event.argsHash,
            verified: broken === undefined && own.every((e) => logs[e.log]?.state !== 'unchecked'),
            unchecked: own.some((e) => logs[e.log]?.state === 'unchecked'),
            problem:
              broken === undefined
                ? undefined
                : !broken.hashOk
                  ? `record ${broken.seq} does not match its hash`
                  : `the log breaks at or before record ${broken.seq} (${logs[broken.log]?.code})`,
            logs,
          },
          200,
          x.secure,
        );
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/grants$/,
      role: 'viewer',
      run: async (x) => json({ now: c.now(), grants: await c.control.listGrants() }, 200, x.secure),
    },
    {
      method: 'POST',
      pattern: /^\/api\/grants\/([A-Za-z0-9_-]{1,200})\/revoke$/,
      role: 'admin',
      run: async (x) => {
        const id = x.params[0]!;
        await readJsonObject(x.request, 1024);
        await c.actions.perform('revoke-grant', x.session!, { target: id }, async () => {
          if (!(await c.control.revokeGrant(id)))
            throw new HttpError(404, 'no such grant (expired or already revoked)');
        });
        return json({ revoked: true }, 200, x.secure);
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/suspensions$/,
      role: 'viewer',
      run: async (x) => json({ now: c.now(), suspensions: await c.control.suspensions() }, 200, x.secure),
    },
    {
      method: 'POST',
      pattern: /^\/api\/suspensions(\/resume)?$/,
      role: 'admin',
      run: async (x) => {
        const resuming = x.params[0] === '/resume';
        const body = await readJsonObject(x.request, 4096);
        const action = resuming ? 'resume' : 'suspend';
        const target = `${String(body.field)}=${String(body.value)}`;
        const reason = typeof body.reason === 'string' && body.reason !== '' ? { reason: body.reason } : {};
        const result = await c.actions.perform(action, x.session!, { target, ...reason }, async () =>
          resuming ? await c.control.resume(body) : await c.control.suspend(body),
        );
        return json(resuming ? { lifted: result } : { suspension: result }, 200, x.secure);
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/policy$/,
      role: 'viewer',
      run: async (x) => json(policyView(c.options.guard, await c.reader.events()), 200, x.secure),
    },
  ];
}
