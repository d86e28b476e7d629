// Control: grants (list, revoke), suspensions (the kill switch), and the loaded policy.
import { ApiError, get, post, type SessionInfo } from './api.ts';
import { announce, h, pretty, replace, time } from './dom.ts';

interface Grant {
  id: string;
  tool: string;
  agent?: string | null;
  principal?: string | null;
  intent?: string | null;
  argsHash?: string;
  maxUses?: number;
  uses: number;
  reason?: string;
  expiresAt: number;
  issuedBy: string;
}

interface Suspension {
  field: string;
  value: string;
  at: number;
  until?: number;
  reason?: string;
}

interface Policy {
  available: boolean;
  engine?: string;
  version?: string;
  decisions?: number;
  rules?: {
    id: string;
    effect: string;
    reason: string;
    spec: unknown;
    hits: { allow: number; deny: number; ask: number };
  }[];
  uncovered?: { tool: string; count: number }[];
}

const table = (caption: string, columns: string[], rows: HTMLElement[]) =>
  h(
    'table',
    {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col' }, c)))),
    h(
      'tbody',
      {},
      ...(rows.length === 0 ? [h('tr', {}, h('td', { colspan: columns.length }, 'none'))] : rows),
    ),
  );

/** Renders the control page. */
export function renderControl(main: HTMLElement, session: SessionInfo): void {
  const admin = session.role === 'admin';
  const message = h('p', { class: 'message', role: 'alert' });
  const grants = h('section', { 'aria-labelledby': 'h-grants' });
  const suspensions = h('section', { 'aria-labelledby': 'h-susp' });
  const policy = h('section', { 'aria-labelledby': 'h-policy' });
  replace(main, h('h1', {}, 'Control'), message, grants, suspensions, policy);

  const act = async (what: string, path: string, body: unknown) => {
    message.textContent = '';
    try {
      await post(path, body);
      announce(what);
      await load();
    } catch (error) {
      message.textContent = error instanceof ApiError ? error.message : String(error);
    }
  };

  /** An admin's button that posts one change (nothing for other roles). */
  const action = (label: string, done: string, path: string, body: unknown) =>
    admin ? h('button', { type: 'button', onclick: () => void act(done, path, body) }, label) : '';

  const load = async () => {
    const [g, s, p] = await Promise.all([
      get<{ grants: Grant[] }>('api/grants'),
      get<{ suspensions: Suspension[] }>('api/suspensions'),
      get<Policy>('api/policy'),
    ]);
    replace(
      grants,
      h('h2', { id: 'h-grants' }, 'Grants'),
      table(
        'Live grants',
        ['Tool', 'Agent', 'Principal', 'Args', 'Uses', 'Expires', 'Issued by', ''],
        g.grants.map((grant) =>
          h(
            'tr',
            {},
            h('td', {}, grant.tool),
            h('td', {}, grant.agent ?? 'any'),
            h('td', {}, grant.principal ?? 'any'),
            h('td', {}, grant.argsHash === undefined ? 'any' : `hash ${grant.argsHash.slice(0, 12)}…`),
            h('td', {}, `${grant.uses}${grant.maxUses === undefined ? '' : ` of ${grant.maxUses}`}`),
            h('td', {}, time(grant.expiresAt)),
            h('td', {}, grant.issuedBy),
            h(
              'td',
              {},
              action(
                'Revoke',
                `Revoked grant ${grant.id}`,
                `api/grants/${encodeURIComponent(grant.id)}/revoke`,
                {},
              ),
            ),
          ),
        ),
      ),
    );
    const field = h(
      'select',
      { id: 's-field' },
      ...['agent', 'principal', 'tool', 'session'].map((f) => h('option', { value: f }, f)),
    );
    const value = h('input', { id: 's-value', required: true });
    const reason = h('input', { id: 's-reason' });
    const until = h('input', { id: 's-for', placeholder: 'e.g. 1h (empty: until resumed)' });
    const form = h(
      'form',
      { class: 'suspend', 'aria-label': 'Suspend' },
      h('label', { for: 's-field' }, 'Suspend'),
      field,
      h('label', { for: 's-value' }, 'Name'),
      value,
      h('label', { for: 's-reason' }, 'Reason'),
      reason,
      h('label', { for: 's-for' }, 'For'),
      until,
      h('button', { type: 'submit' }, 'Suspend'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void act(`Suspended ${field.value} ${value.value}`, 'api/suspensions', {
        field: field.value,
        value: value.value,
        reason: reason.value,
        for: until.value,
      });
    });
    replace(
      suspensions,
      h('h2', { id: 'h-susp' }, 'Suspensions (kill switch)'),
      table(
        'In force',
        ['What', 'Since', 'Until', 'Reason', ''],
        s.suspensions.map((x) =>
          h(
            'tr',
            {},
            h('td', {}, `${x.field} ${x.value}`),
            h('td', {}, time(x.at)),
            h('td', {}, x.until === undefined ? 'resumed by hand' : time(x.until)),
            h('td', {}, x.reason ?? ''),
            h(
              'td',
              {},
              action('Resume', `Resumed ${x.field} ${x.value}`, 'api/suspensions/resume', {
                field: x.field,
                value: x.value,
              }),
            ),
          ),
        ),
      ),
      admin ? form : h('p', { class: 'muted' }, 'Admins can suspend and resume.'),
    );
    replace(
      policy,
      h('h2', { id: 'h-policy' }, 'Policy'),
      !p.available
        ? h('p', {}, 'Start the console with a guard (the guard option) to see its policy.')
        : h(
            'div',
            {},
            h(
              'p',
              {},
              `Engine ${p.engine ?? ''}${p.version ? `, version ${p.version.slice(0, 12)}` : ''}; ${p.decisions ?? 0} decisions in the audit files.`,
            ),
            table(
              'Rules and how often they decided',
              ['Rule', 'Effect', 'Reason', 'Allowed', 'Asked', 'Denied', 'Definition'],
              (p.rules ?? []).map((rule) =>
                h(
                  'tr',
                  { class: rule.hits.allow + rule.hits.ask + rule.hits.deny === 0 ? 'unused' : '' },
                  h('td', {}, rule.id),
                  h('td', {}, rule.effect),
                  h('td', {}, rule.reason),
                  h('td', { class: 'num' }, rule.hits.allow),
                  h('td', { class: 'num' }, rule.hits.ask),
                  h('td', { class: 'num' }, rule.hits.deny),
                  h('td', {}, h('details', {}, h('summary', {}, 'show'), h('pre', {}, pretty(rule.spec)))),
                ),
              ),
            ),
            table(
              'Tools called with no matching rule (default deny)',
              ['Tool', 'Calls'],
              (p.uncovered ?? []).map((x) =>
                h('tr', {}, h('td', {}, x.tool), h('td', { class: 'num' }, x.count)),
              ),
            ),
          ),
    );
  };
  void load().catch((error: Error) => {
    message.textContent = error.message;
  });
}
