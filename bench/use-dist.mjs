// `node --import tsx --import ./bench/use-dist.mjs bench/index.ts`: see bench/dist-hooks.mjs.
import { existsSync } from 'node:fs';
import { register } from 'node:module';

if (!existsSync(new URL('../dist/index.js', import.meta.url))) {
  throw new Error('bench: dist/ is missing; run `npm run build` first (`npm run bench` does)');
}
register('./dist-hooks.mjs', import.meta.url);
