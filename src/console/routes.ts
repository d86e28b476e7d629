import { consoleQueue } from './approver.ts';
import type { ConsoleContext, Exchange, Route } from './exchange.ts';
import { HttpError, json, readBody, readJsonObject, securityHeaders } from './http.ts';
import {
  answerProblem,
  approvalAnswer,
  inboxItem,
  pendingOr404,
  REMEMBER_CHOICES,
  resolveError,
} from './inbox.ts';
import { eventStream } from './live.ts';
import { auditRoutes } from './routes-audit.ts';

const SMALL_BODY = 16 * 1024;
/** Edited arguments may be as large as the guard's own default limit on arguments. */
const APPROVE_BODY = 1024 * 1024;
const ID = '([A-Za-z0-9_-]{1,128})';

/** The console's API routes. */
export function routes(c: ConsoleContext): Route[] {
  const queue = () => consoleQueue(c.options.store, c.secret, c.now);
  const sessionView = (x: Exchange) => ({
    account: x.session!.name,
    role: x.session!.role,
    csrf: x.session!.csrf,
    expiresAt: x.session!.expiresAt,
    features: {
      audit: c.reader.paths.length > 0,
      policy: c.options.guard !== undefined,
      rememberChoices: REMEMBER_CHOICES,
    },
  });
  const inbox = async (x: Exchange) => {
    const pending = await (await queue()).list();
    return { now: c.now(), items: pending.map((entry) => inboxItem(entry, x.session!)) };
  };

  return [
    {
      method: 'GET',
      pattern: /^\/api\/session$/,
      role: 'viewer',
      run: async (x) => json(sessionView(x), 200, x.secure),
    },
    {
      method: 'POST',
      pattern: /^\/api\/session$/,
      role: 'public',
      run: async (x) => {
        const { name, password } = await signInFields(x.request);
        // Counted before the (slow) password check, so concurrent guesses cannot all pass the limit.
        const wait = c.limiter.begin(name, x.clientAddress);
        if (wait > 0) {
          await c.actions.write('sign-in', { name }, 'refused', { reason: 'rate limited' });
          throw new HttpError(429, `too many failed sign-ins; try again in ${wait} s`, {
            'retry-after': String(wait),
          });
        }
        const account = await c.accounts.verify(name, password);
        if (account === undefined) {
          await c.actions.write('sign-in', { name }, 'refused', { reason: 'wrong name or password' });
          throw new HttpError(401, 'wrong name or password');
        }
        await c.actions.write('sign-in', account, 'ok');
        c.limiter.succeed(name, x.clientAddress);
        const { token, session } = await c.sessions.create(account);
        const headers = new Headers({ 'set-cookie': c.sessions.setCookie(token, x.secure, x.cookiePath) });
        return json(sessionView({ ...x, session }), 200, x.secure, headers);
      },
    },
    {
      method: 'POST',
      pattern: /^\/api\/session\/end$/,
      role: 'viewer',
      run: async (x) => {
        await c.sessions.end(x.session!);
        await c.actions.write('sign-out', x.session!, 'ok');
        const headers = new Headers({ 'set-cookie': c.sessions.clearCookie(x.secure, x.cookiePath) });
        return json({ signedOut: true }, 200, x.secure, headers);
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/approvals$/,
      role: 'viewer',
      run: async (x) => json(await inbox(x), 200, x.secure),
    },
    {
      method: 'GET',
      pattern: /^\/api\/events$/,
      role: 'viewer',
      run: async (x) => {
        let last = '';
        let busy = false;
        let stop = () => {};
        const stream = eventStream(x.request.signal, () => stop());
        const push = async () => {
          if (busy || stream.closed) return;
          busy = true;
          try {
            // A session ended elsewhere (sign-out, account removed) ends the stream too.
            if ((await c.sessions.read(x.request, x.secure)) === undefined) return stream.close();
            const view = await inbox(x);
            const digest = JSON.stringify(view.items);
            if (digest !== last) {
              last = digest;
              stream.send('inbox', view);
            }
          } catch {
            // The next wake-up tries again.
          } finally {
            busy = false;
          }
        };
        stop = c.watch.add(() => void push());
        void push();
        const headers = securityHeaders(x.secure);
        headers.set('content-type', 'text/event-stream; charset=utf-8');
        headers.set('x-accel-buffering', 'no');
        return new Response(stream.body, { status: 200, headers });
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/api/approvals/${ID}/(approve|deny)$`),
      role: 'approver',
      run: async (x) => {
        const [id, verb] = x.params as [string, 'approve' | 'deny'];
        const approving = verb === 'approve';
        const body = await readJsonObject(x.request, approving ? APPROVE_BODY : SMALL_BODY);
        const q = await queue();
        const entry = await pendingOr404(q, id);
        const account = x.session!;
        const fields = { target: id, forCallId: entry.request.callId, forTool: entry.request.tool };
        const problem = answerProblem(account, entry, approving);
        if (problem !== undefined) {
          await c.actions.write(verb, account, 'refused', { ...fields, reason: problem });
          throw new HttpError(403, problem);
        }
        let answer: Parameters<typeof q.resolve>[1];
        let details = {};
        if (approving) {
          ({ answer, details } = approvalAnswer(account, entry, body));
        } else {
          const reason = body.reason;
          if (typeof reason !== 'string' || reason.trim() === '' || reason.length > 2000)
            throw new HttpError(400, 'say why (a reason of up to 2000 characters): the agent is told');
          if (Object.keys(body).some((key) => key !== 'reason'))
            throw new HttpError(400, 'only a reason is sent');
          answer = { approved: false, approver: account.name, reason: reason.trim() };
        }
        const recorded = {
          ...fields,
          details,
          ...(approving ? {} : { reason: (answer as { reason: string }).reason }),
        };
        await c.actions.perform(verb, account, recorded, async () => {
          try {
            await q.resolve(id, answer);
          } catch (error) {
            throw resolveError(error);
          }
        });
        return json({ ok: true, id, approver: account.name }, 200, x.secure);
      },
    },
    ...auditRoutes(c),
  ];
}

/** The sign-in form's fields, from a form post or JSON. */
async function signInFields(request: Request): Promise<{ name: string; password: string }> {
  const type = (request.headers.get('content-type') ?? '').toLowerCase();
  let name: unknown;
  let password: unknown;
  if (type.startsWith('application/json')) {
    ({ name, password } = await readJsonObject(request, SMALL_BODY));
  } else if (type.startsWith('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(await readBody(request, SMALL_BODY));
    name = form.get('name');
    password = form.get('password');
  } else throw new HttpError(415, 'send the sign-in form');
  if (typeof name !== 'string' || typeof password !== 'string' || name.length === 0 || name.length > 200)
    throw new HttpError(400, 'give a name and a password');
  return { name: name.trim().normalize('NFC'), password };
}
