// Prints the peer dependencies of toolgate to install beside the packed package, one `name@version`
// per line: `latest` (the newest published) or `lowest` (the lower bound of each peer range, the
// oldest version toolgate claims to support). Used by scripts/consumer-check.sh.
import { readFileSync } from 'node:fs';

const which = process.argv[2];
if (which !== 'latest' && which !== 'lowest') {
  console.error('usage: node peers.mjs latest|lowest');
  process.exit(2);
}
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
for (const [name, range] of Object.entries(pkg.peerDependencies)) {
  if (which === 'latest') {
    console.log(`${name}@latest`);
    continue;
  }
  // The lowest version a range admits: the smallest `^x.y.z` / `>=x.y.z` bound among its alternatives.
  const bounds = range
    .split('||')
    .map((part) => /(\d+)\.(\d+)\.(\d+)/.exec(part.trim()))
    .filter((match) => match !== null)
    .map((match) => match.slice(1).map(Number));
  if (bounds.length === 0) throw new Error(`cannot read a lower bound from ${name}@${range}`);
  bounds.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  console.log(`${name}@${bounds[0].join('.')}`);
}
