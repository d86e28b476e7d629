// The console page: sign-in, then the inbox, call details, the audit explorer and control.
import { ApiError, get, post, type SessionInfo, useSession } from './api.ts';
import { renderAudit, renderCall } from './audit-view.ts';
import { renderControl } from './control-view.ts';
import { announce, h, replace } from './dom.ts';
import { renderInbox } from './inbox-view.ts';

const main = document.getElementById('main') as HTMLElement;
let session: SessionInfo | undefined;
/** Stops whatever the current view keeps running (event stream, timers). */
let stopView: () => void = () => {};

async function start(): Promise<void> {
  try {
    session = await get<SessionInfo>('api/session');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return showSignIn();
    return showError(error);
  }
  signedIn(session);
}

function signedIn(info: SessionInfo): void {
  session = info;
  useSession(info);
  (document.getElementById('nav') as HTMLElement).hidden = false;
  const who = document.getElementById('who') as HTMLElement;
  who.textContent = `${info.account} (${info.role})`;
  const signOut = document.getElementById('signout') as HTMLButtonElement;
  signOut.hidden = false;
  signOut.onclick = async () => {
    await post('api/session/end').catch(() => undefined);
    location.hash = '';
    location.reload();
  };
  void refreshBadge();
  window.addEventListener('hashchange', route);
  route();
}

function showSignIn(): void {
  const name = h('input', { id: 'name', name: 'name', autocomplete: 'username', required: true });
  const password = h('input', {
    id: 'password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const message = h('p', { class: 'error', role: 'alert' });
  const form = h(
    'form',
    { class: 'signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in'),
    h('label', { for: 'name' }, 'Name'),
    name,
    h('label', { for: 'password' }, 'Password or token'),
    password,
    h('button', { type: 'submit' }, 'Sign in'),
    message,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.textContent = '';
    try {
      const response = await fetch('api/session', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: name.value, password: password.value }),
      });
      const body = (await response.json()) as SessionInfo & { error?: string };
      if (!response.ok) throw new Error(body.error ?? 'sign-in failed');
      password.value = '';
      signedIn(body);
    } catch (error) {
      message.textContent = (error as Error).message;
    }
  });
  replace(main, form);
  name.focus();
}

function route(): void {
  if (session === undefined) return;
  stopView();
  stopView = () => {};
  const [, view, id] = location.hash.split('/');
  for (const link of document.querySelectorAll<HTMLAnchorElement>('#nav a')) {
    const current =
      link.getAttribute('href') === `#/${view ?? 'inbox'}` ||
      (view === undefined && link.getAttribute('href') === '#/inbox');
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  try {
    if (view === 'call' && id !== undefined) renderCall(main, decodeURIComponent(id));
    else if (view === 'audit') stopView = renderAudit(main, session);
    else if (view === 'control') renderControl(main, session);
    else stopView = renderInbox(main, session);
  } catch (error) {
    showError(error);
  }
}

/** The header's verification badge: green when every log verifies, red when one is broken. */
export async function refreshBadge(): Promise<void> {
  const badge = document.getElementById('badge') as HTMLElement;
  if (session?.features.audit !== true) return;
  try {
    const { logs } = await get<{ logs: { state: string; code?: string; path: string }[] }>(
      'api/audit/status',
    );
    const failed = logs.filter((log) => log.state === 'failed');
    const unchecked = logs.filter((log) => log.state === 'unchecked');
    badge.hidden = false;
    badge.className = `badge ${failed.length > 0 ? 'bad' : unchecked.length > 0 ? 'warn' : 'good'}`;
    badge.textContent =
      failed.length > 0
        ? `Audit: tampered or broken (${failed[0]?.code})`
        : unchecked.length > 0
          ? 'Audit: chain intact, signatures unchecked'
          : 'Audit: verified';
    badge.setAttribute(
      'data-state',
      failed.length > 0 ? 'failed' : unchecked.length > 0 ? 'unchecked' : 'ok',
    );
  } catch {
    badge.hidden = true;
  }
}

function showError(error: unknown): void {
  replace(
    main,
    h('p', { class: 'error', role: 'alert' }, `The console could not load: ${(error as Error).message}`),
  );
  announce('error');
}

void start();
