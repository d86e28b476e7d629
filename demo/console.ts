// `npm run demo -- --console`: the web console for the demo, on loopback, with a one-time sign-in.
import { execFileSync } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ConsoleServer, serveConsole } from '../src/console/index.ts';
import { memoryAudit, type StateStore } from '../src/index.ts';
import { bold, dim, yellow } from './style.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The built page: the package build's, or compiled here once (tsc) into demo/.data. */
function pageAssets(): string {
  const built = join(ROOT, 'dist', 'console', 'page');
  if (existsSync(join(built, 'app.js'))) return built;
  const out = join(ROOT, 'demo', '.data', 'console-page');
  if (!existsSync(join(out, 'app.js'))) {
    mkdirSync(out, { recursive: true });
    process.stdout.write(dim('Building the console page… '));
    execFileSync(process.execPath, [
      join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      join(ROOT, 'tsconfig.console.json'),
      '--outDir',
      out,
    ]);
    execFileSync('cp', [
      join(ROOT, 'src', 'console', 'page', 'index.html'),
      join(ROOT, 'src', 'console', 'page', 'style.css'),
      out,
    ]);
    console.log(dim('done'));
  }
  return out;
}

/** Starts the console over the demo's store and audit file and prints how to sign in. */
export async function startConsole(options: {
  store: StateStore;
  auditPath: string;
  publicKey: KeyObject;
}): Promise<ConsoleServer> {
  const token = randomBytes(18).toString('base64url');
  const server = await serveConsole({
    port: 0,
    store: options.store,
    accounts: [{ name: 'supervisor:you', role: 'admin', token }],
    audit: options.auditPath,
    auditKeys: { 'demo-2026': options.publicKey },
    actionAudit: memoryAudit(),
    assets: pageAssets(),
  });
  console.log(`${yellow('▶')} The console: ${bold(server.url)}`);
  console.log(`  sign in as ${bold('supervisor:you')} with the one-time token ${bold(token)}\n`);
  return server;
}
