// Runs every example under examples/ (each folder's *.ts files) and fails on the first error.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', 'examples');
const files: string[] = [];
for (const entry of readdirSync(root).sort()) {
  const dir = join(root, entry);
  if (!statSync(dir).isDirectory()) continue;
  for (const file of readdirSync(dir).sort()) {
    if (file.endsWith('.ts') && !file.startsWith('_')) files.push(join(dir, file));
  }
}
let failed = 0;
for (const file of files) {
  const started = Date.now();
  const result = spawnSync(process.execPath, ['--import', 'tsx', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, TOOLGATE_EXAMPLE: '1' },
  });
  const ok = result.status === 0;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${file.slice(root.length + 1)} (${Date.now() - started} ms)`);
  if (!ok) {
    failed += 1;
    console.log(result.stdout, result.stderr, result.error ?? '');
  }
}
console.log(`${files.length - failed}/${files.length} examples passed`);
process.exit(failed === 0 ? 0 : 1);
