// The inbox: pending approvals, live over server-sent events, with approve, deny, edit and remember.
import { ApiError, post, type SessionInfo } from './api.ts';
import { announce, duration, h, pretty, replace } from './dom.ts';
import { checkSchema } from './json-schema.ts';

interface Item {
  id: string;
  callId: string;
  tool: string;
  risk?: string;
  args: unknown;
  argsHash: string;
  argsRedacted: boolean;
  context: Record<string, unknown>;
  reason: string;
  rules: string[];
  expiresAt: number;
  quorum: number;
  approvedBy: string[];
  approvers?: string[];
  separationOfDuties: boolean;
  inputSchema?: unknown;
  answer: { allowed: boolean; why?: string };
  canEdit: boolean;
  canRemember: boolean;
}

interface Card {
  element: HTMLElement;
  item: Item;
  update(item: Item): void;
  gone(): void;
  tick(now: number): void;
}

/** Renders the inbox into `main`; returns a function that stops its stream and timer. */
export function renderInbox(main: HTMLElement, session: SessionInfo): () => void {
  const list = h('div', { class: 'cards' });
  const empty = h('p', { class: 'empty' }, 'Nothing is waiting for approval.');
  const connection = h('p', { class: 'muted' }, 'Connecting…');
  replace(main, h('h1', {}, 'Inbox'), connection, empty, list);
  const cards = new Map<string, Card>();
  let skew = 0;
  const stream = new EventSource('api/events');
  stream.addEventListener('open', () => {
    connection.textContent = 'Live: new requests appear here as they arrive.';
  });
  stream.addEventListener('error', () => {
    connection.textContent = 'Connection lost; reconnecting…';
  });
  stream.addEventListener('inbox', (event) => {
    const data = JSON.parse((event as MessageEvent<string>).data) as { now: number; items: Item[] };
    skew = data.now - Date.now();
    const seen = new Set<string>();
    for (const item of data.items) {
      seen.add(item.id);
      const existing = cards.get(item.id);
      if (existing !== undefined) existing.update(item);
      else {
        const card = makeCard(item, session);
        card.tick(Date.now() + skew);
        cards.set(item.id, card);
        list.appendChild(card.element);
        announce(`New approval request: ${item.tool}`);
      }
    }
    for (const [id, card] of cards) {
      if (!seen.has(id)) {
        card.gone();
        cards.delete(id);
      }
    }
    empty.hidden = data.items.length > 0;
  });
  const timer = setInterval(() => {
    for (const card of cards.values()) card.tick(Date.now() + skew);
  }, 1000);
  return () => {
    stream.close();
    clearInterval(timer);
  };
}

function field(label: string, value: unknown): HTMLElement | null {
  if (value === undefined || value === null || value === '') return null;
  return h(
    'div',
    { class: 'field' },
    h('dt', {}, label),
    h('dd', {}, typeof value === 'string' ? value : pretty(value)),
  );
}

function makeCard(initial: Item, session: SessionInfo): Card {
  let item = initial;
  const titleId = `t-${item.id}`;
  const left = h('span', { class: 'left' });
  const quorum = h('span', { class: 'quorum' });
  const message = h('p', { class: 'message', role: 'alert' });
  const actions = h('div', { class: 'actions' });
  const panel = h('div', { class: 'panel' });
  const element = h(
    'article',
    { class: 'card', 'aria-labelledby': titleId, 'data-request': item.id },
    h(
      'h2',
      { id: titleId },
      item.tool,
      item.risk === undefined ? null : h('span', { class: 'risk' }, ` risk: ${item.risk}`),
    ),
    h(
      'p',
      { class: 'meta' },
      left,
      ' · ',
      quorum,
      ' · ',
      h('a', { href: `#/call/${encodeURIComponent(item.callId)}` }, 'call details'),
    ),
    h(
      'dl',
      { class: 'asker' },
      field('Agent', item.context.agent),
      field('Principal', item.context.principal),
      field('Intent', item.context.intent),
      field('Session', item.context.session),
      field('Credential', item.context.credentialId),
      field('Rule', item.rules.join(', ')),
      field('Policy says', item.reason),
      field('Approvers', item.approvers?.join(', ')),
    ),
    h('h3', {}, 'Arguments', item.argsRedacted ? ' (redacted)' : ''),
    h('pre', { class: 'args', tabindex: 0, 'aria-label': `arguments of ${item.tool}` }, pretty(item.args)),
    h('p', { class: 'hash' }, `args hash ${item.argsHash}`),
    actions,
    panel,
    message,
  );
  let finished = false;

  const send = async (verb: 'approve' | 'deny', body: unknown) => {
    message.textContent = '';
    for (const button of element.querySelectorAll('button')) button.disabled = true;
    try {
      await post(`api/approvals/${encodeURIComponent(item.id)}/${verb}`, body);
      finished = true;
      replace(panel);
      replace(
        actions,
        h(
          'p',
          { class: 'done' },
          verb === 'approve' ? 'Approved. The call continues.' : 'Denied. The agent is told why.',
        ),
      );
      announce(verb === 'approve' ? `Approved ${item.tool}` : `Denied ${item.tool}`);
    } catch (error) {
      message.textContent = error instanceof ApiError ? error.message : String(error);
      for (const button of element.querySelectorAll('button')) button.disabled = false;
    }
  };

  const openDeny = () => {
    const reason = h('textarea', { id: `r-${item.id}`, rows: 2, required: true });
    replace(
      panel,
      h('label', { for: `r-${item.id}` }, 'Reason (the agent is told)'),
      reason,
      h(
        'button',
        { type: 'button', class: 'deny', onclick: () => void send('deny', { reason: reason.value }) },
        'Send denial',
      ),
    );
    reason.focus();
  };

  const openEdit = () => {
    const editor = h('textarea', { id: `e-${item.id}`, rows: 8, class: 'editor', spellcheck: 'false' });
    editor.value = pretty(item.args);
    const problems = h('ul', { class: 'problems', 'aria-live': 'polite' });
    const diff = h('ul', { class: 'diff', 'aria-label': 'changes' });
    const approve = h('button', { type: 'button', class: 'approve' }, 'Approve edited arguments');
    let parsed: unknown;
    const check = () => {
      replace(problems);
      replace(diff);
      try {
        parsed = JSON.parse(editor.value);
      } catch (error) {
        parsed = undefined;
        problems.appendChild(h('li', {}, `not valid JSON: ${(error as Error).message}`));
      }
      if (parsed !== undefined) {
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          problems.appendChild(h('li', {}, 'the arguments must be a JSON object'));
          parsed = undefined;
        } else if (item.inputSchema !== undefined) {
          for (const issue of checkSchema(item.inputSchema, parsed))
            problems.appendChild(h('li', {}, `${issue.path} ${issue.message}`));
        }
      }
      if (parsed !== undefined) for (const line of changes(item.args, parsed, '$')) diff.appendChild(line);
      if (parsed !== undefined && diff.childElementCount === 0)
        diff.appendChild(h('li', {}, 'no changes yet'));
      approve.disabled = parsed === undefined || problems.childElementCount > 0;
    };
    editor.addEventListener('input', check);
    approve.addEventListener('click', () => void send('approve', { args: parsed }));
    replace(
      panel,
      h(
        'label',
        { for: `e-${item.id}` },
        item.inputSchema === undefined
          ? 'Arguments (JSON)'
          : "Arguments (JSON, checked against the tool's schema)",
      ),
      editor,
      problems,
      h('h4', {}, 'Changes'),
      diff,
      approve,
    );
    check();
    editor.focus();
  };

  const openRemember = () => {
    const choice = h(
      'select',
      { id: `m-${item.id}` },
      ...session.features.rememberChoices.map((c) => h('option', { value: c }, c)),
    );
    const anyArgs = h('input', { type: 'checkbox', id: `a-${item.id}` });
    replace(
      panel,
      h('label', { for: `m-${item.id}` }, 'Remember for'),
      choice,
      h(
        'div',
        { class: 'check' },
        anyArgs,
        h('label', { for: `a-${item.id}` }, 'for any arguments (not only these)'),
      ),
      h(
        'p',
        { class: 'muted' },
        'Later calls of this tool by the same agent and principal are allowed without asking until then; deny rules still win.',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'approve',
          onclick: () =>
            void send('approve', {
              remember: { for: choice.value, ...(anyArgs.checked ? { scope: { args: 'any' } } : {}) },
            }),
        },
        'Approve and remember',
      ),
    );
    choice.focus();
  };

  const drawActions = () => {
    if (finished) return;
    if (!item.answer.allowed) {
      replace(actions, h('p', { class: 'muted' }, `You cannot answer this: ${item.answer.why ?? ''}`));
      return;
    }
    replace(
      actions,
      h('button', { type: 'button', class: 'approve', onclick: () => void send('approve', {}) }, 'Approve'),
      h('button', { type: 'button', class: 'deny', onclick: openDeny }, 'Deny…'),
      item.canEdit ? h('button', { type: 'button', onclick: openEdit }, 'Edit then approve…') : null,
      item.canRemember
        ? h('button', { type: 'button', onclick: openRemember }, 'Approve and remember…')
        : null,
    );
  };

  const update = (next: Item) => {
    const changed =
      next.answer.allowed !== item.answer.allowed || next.approvedBy.length !== item.approvedBy.length;
    item = next;
    quorum.textContent =
      item.quorum > 1
        ? `${item.approvedBy.length} of ${item.quorum} approvals${item.approvedBy.length > 0 ? ` (${item.approvedBy.join(', ')})` : ''}`
        : 'one approval needed';
    if (changed) {
      replace(panel);
      drawActions();
    }
  };
  update(item);
  drawActions();
  return {
    element,
    get item() {
      return item;
    },
    update,
    tick(t: number) {
      const remaining = item.expiresAt - t;
      left.textContent = remaining > 0 ? `${duration(remaining)} left` : 'expired';
      if (remaining <= 0 && !finished) {
        for (const button of actions.querySelectorAll('button')) button.disabled = true;
      }
    },
    gone() {
      element.classList.add('gone');
      if (!finished) {
        replace(panel);
        replace(
          actions,
          h('p', { class: 'muted' }, 'No longer pending: answered elsewhere, timed out or cancelled.'),
        );
      }
      for (const button of element.querySelectorAll('button')) button.disabled = true;
      setTimeout(() => element.remove(), 15_000);
    },
  };
}

/** The differences between the original and edited arguments, one list item per changed path. */
function changes(before: unknown, after: unknown, path: string): HTMLElement[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const object = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (object(before) && object(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((key) => changes(before[key], after[key], `${path}.${key}`));
  }
  const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));
  return [
    h('li', {}, h('code', {}, path), ': ', h('del', {}, show(before)), ' → ', h('ins', {}, show(after))),
  ];
}
