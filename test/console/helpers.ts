import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';

export const ROOT: string = fileURLToPath(new URL('../..', import.meta.url));
export const OUTPUT: string = join(ROOT, 'test-output', 'console');
export const SCREENSHOTS: string = join(OUTPUT, 'screenshots');
const PAGE_SOURCES = join(ROOT, 'src', 'console', 'page');

/**
 * Builds the console page (tsc + the static files) into test-output once per change of its sources,
 * and returns the directory to pass as the `assets` option.
 */
export function builtPage(): string {
  const out = join(OUTPUT, 'page');
  const newest = Math.max(
    ...readdirSync(PAGE_SOURCES).map((name) => statSync(join(PAGE_SOURCES, name)).mtimeMs),
  );
  const marker = join(out, 'app.js');
  if (!existsSync(marker) || statSync(marker).mtimeMs < newest) {
    mkdirSync(out, { recursive: true });
    execFileSync(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        join(ROOT, 'tsconfig.console.json'),
        '--outDir',
        out,
      ],
      { stdio: 'inherit' },
    );
    execFileSync('cp', [join(PAGE_SOURCES, 'index.html'), join(PAGE_SOURCES, 'style.css'), out]);
  }
  return out;
}

/** The Chromium binary, or why the browser tests skip (throws when TOOLGATE_REQUIRE_BROWSER=1). */
export function chromiumPath(): { path?: string; skip?: string } {
  let path = '';
  try {
    path = execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    path = '';
  }
  if (path !== '') return { path };
  const reason =
    'no chromium on PATH (apt-get install -y chromium); set TOOLGATE_REQUIRE_BROWSER=1 to fail instead';
  if (process.env.TOOLGATE_REQUIRE_BROWSER === '1')
    throw new Error(`TOOLGATE_REQUIRE_BROWSER=1 but ${reason}`);
  console.warn(`skipping browser tests: ${reason}`);
  return { skip: reason };
}

/** Launches the Debian Chromium headless with a fresh profile. */
export async function launch(executablePath: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
}

/** A new context (its own cookies) and page; dialogs are recorded, never accepted. */
export async function openPage(
  browser: Browser,
): Promise<{ context: BrowserContext; page: Page; dialogs: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return { context, page, dialogs };
}

/** Signs in through the form. */
export async function signIn(page: Page, url: string, name: string, password: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Password or token').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Inbox' }).waitFor();
}

/** Runs axe-core in the page (injected by evaluate: the CSP refuses script tags) and returns serious or critical violations. */
export async function axeViolations(page: Page): Promise<{ id: string; impact: string; nodes: number }[]> {
  const { readFileSync } = await import('node:fs');
  const source = readFileSync(join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
  await page.evaluate(source);
  const results = (await page.evaluate(
    '(async () => { const r = await axe.run(document, { resultTypes: ["violations"] }); return r.violations.map(v => ({ id: v.id, impact: v.impact, nodes: v.nodes.length })); })()',
  )) as { id: string; impact: string; nodes: number }[];
  return results.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Saves a full-page screenshot under test-output/console/screenshots. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** A guarded agent in another process (test/console/fixtures/guard-child.ts). */
export interface Agent {
  call(id: string, args: unknown, context: Record<string, string>, tool?: string): void;
  result(id: string): Promise<unknown>;
  stop(): Promise<void>;
}

export async function startAgent(env: Record<string, string>): Promise<Agent> {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'test', 'console', 'fixtures', 'guard-child.ts')],
    { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const results = new Map<string, unknown>();
  const waiters = new Map<string, (value: unknown) => void>();
  let ready: () => void = () => {};
  const isReady = new Promise<void>((resolve) => {
    ready = resolve;
  });
  let buffer = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (process.env.DEBUG_AGENT) console.log(`agent stderr: ${chunk}`);
  });
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let at = buffer.indexOf('\n'); at >= 0; at = buffer.indexOf('\n')) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
      if (process.env.DEBUG_AGENT) console.log(`agent: ${line}`);
      if (line === 'ready') ready();
      const match = /^result (\S+) (.*)$/.exec(line);
      if (match !== null) {
        const value = JSON.parse(match[2]!) as unknown;
        results.set(match[1]!, value);
        waiters.get(match[1]!)?.(value);
      }
    }
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await Promise.race([
    isReady,
    exited.then(() => {
      throw new Error(`the agent process exited: ${stderr}`);
    }),
  ]);
  return {
    call(id, args, context, tool) {
      child.stdin.write(`${JSON.stringify({ id, args, context, tool })}\n`);
    },
    result(id) {
      if (results.has(id)) return Promise.resolve(results.get(id));
      return new Promise((resolve) => waiters.set(id, resolve));
    },
    async stop() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
