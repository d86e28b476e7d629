// Agent identity: verifyCredential cold (every token new: parse, Ed25519 signature, claims) and
// warm (the same token again: cached signature and claims, time and audience checks, and the
// revocation check, which the memory store answers in-process), with and without suspensions in
// the store; the guard's synchronous step (credentialVerifier.verify); and the secret scrubber on
// outputs with no secret in them (the common case) and with some.
import { memoryAudit } from '../src/audit/memory.ts';
import {
  agentRegistry,
  createKeySet,
  credentialVerifier,
  generateSigningKey,
  issueCredential,
  verifyCredential,
} from '../src/identity/index.ts';
import { createGuard, type Rule, rules } from '../src/index.ts';
import { secretScrubber } from '../src/secrets/scrubber.ts';
import { memoryStore } from '../src/store/memory.ts';
import { TransferArgs, transferArgs } from './fixtures/transfer.ts';
import { type BenchRow, paired, ratioRow, report, sampleRow, time } from './harness.ts';

/** More tokens than the verification cache holds (10,000), so cycling through them always misses. */
const COLD_TOKENS = 12_000;

export default async function identity(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const store = memoryStore();
  const registry = agentRegistry({ store, audit: memoryAudit({ limit: 10 }) });
  const keys = await createKeySet({ signing: await generateSigningKey({ kid: 'k1' }) });
  await registry.register('support-bot', {
    owner: 'team:support',
    tools: ['db.*'],
    principals: ['user:*'],
    maxTtl: '1h',
  });
  const issue = () =>
    issueCredential(
      { keys, registry },
      {
        agent: 'support-bot',
        principal: 'user:42',
        intent: 'ticket-123',
        tools: ['db.query'],
        ttl: '1h',
        audience: 'shop',
      },
    );
  const options = { keys, registry, audience: 'shop' };
  const tokens: string[] = [];
  for (let i = 0; i < COLD_TOKENS; i++) tokens.push(await issue());
  let next = 0;
  rows.push(
    await time('identity.verify.cold', () => verifyCredential(options, tokens[next++ % COLD_TOKENS]!), {
      perCall: true,
    }),
  );

  const token = await issue();
  if ((await verifyCredential(options, token)).sub !== 'support-bot')
    throw new Error('token does not verify');
  rows.push(await time('identity.verify.warm', () => verifyCredential(options, token), { perCall: true }));
  // With any suspension in the store, the revocation check is a peek admit of the token's entries.
  await registry.revokeCredential('some-other-credential');
  rows.push(
    await time('identity.verify.warm.revocations', () => verifyCredential(options, token), { perCall: true }),
  );

  const verifier = credentialVerifier(options);
  const now = Date.now();
  if (!verifier.verify(token, now).ok) throw new Error('token does not verify');
  rows.push(await time('identity.verifier.warm', () => verifier.verify(token, now), { perCall: true }));

  const scrub = secretScrubber();
  for (let i = 0; i < 100; i++)
    scrub.add(`s${i}`, `sk_live_${i.toString(36).padStart(4, '0')}_${'x'.repeat(24)}`);
  const clean10k = JSON.stringify(
    Array.from({ length: 200 }, (_, i) => ({ id: i, name: `customer ${i}`, note: 'ok' })),
  ).slice(0, 10_000);
  const clean1m = clean10k.repeat(100);
  const dirty10k = `${clean10k.slice(0, 5_000)}sk_live_0001_${'x'.repeat(24)}${clean10k.slice(5_000)}`;
  if (scrub.text(clean10k) !== clean10k || scrub.text(dirty10k) === dirty10k)
    throw new Error('scrubber misbehaves');
  rows.push(await time('secrets.scrub.10kb-100-secrets.clean', () => scrub.text(clean10k)));
  rows.push(await time('secrets.scrub.10kb-100-secrets.one-hit', () => scrub.text(dirty10k)));
  rows.push(await time('secrets.scrub.1mb-100-secrets.clean', () => scrub.text(clean1m)));
  rows.push(...(await verifiedGuard()));
  return rows;
}

/**
 * The guarded allow call of `guard.allow.rules-10` (bench/core.bench.ts), without identity and
 * with a warm verified credential (`withCredential` around the run, memory store shared with the
 * registry, nothing suspended), measured in alternating batches of one run: what verifying adds
 * to every call.
 */
async function verifiedGuard(): Promise<BenchRow[]> {
  const store = memoryStore();
  const registry = agentRegistry({ store, audit: memoryAudit({ limit: 10 }) });
  const keys = await createKeySet({ signing: await generateSigningKey({ kid: 'k1' }) });
  await registry.register('payments-bot', {
    owner: 'team:payments',
    tools: ['payments.*'],
    principals: ['user:*'],
    maxTtl: '1h',
  });
  const token = await issueCredential(
    { keys, registry },
    {
      agent: 'payments-bot',
      principal: 'user:42',
      tools: ['payments.transfer'],
      ttl: '1h',
      audience: 'shop',
    },
  );
  const list: Rule[] = [];
  for (let i = 0; i < 9; i++) list.push({ id: `other-${i}`, effect: 'allow', tool: `tool-${i}.*` });
  list.push({ id: 'transfer', effect: 'allow', tool: 'payments.transfer' });
  const transfer = async (input: { amount: number }) => input.amount;
  const plainGuard = createGuard({ policy: rules(list), audit: memoryAudit({ limit: 1000 }) });
  const verifiedGuard = createGuard({
    policy: rules(list),
    audit: memoryAudit({ limit: 1000 }),
    store,
    identity: { keys, registry, audience: 'shop' },
  });
  const plain = plainGuard.guard(transfer, { name: 'payments.transfer', input: TransferArgs });
  const verified = verifiedGuard.guard(transfer, { name: 'payments.transfer', input: TransferArgs });
  // An agent's run is one `withCredential`; both contestants run inside it (a guard without
  // identity leaves a credential from the scope alone).
  return verifiedGuard.withCredential(token, async () => {
    if ((await plain(transferArgs)) !== 250 || (await verified(transferArgs)) !== 250)
      throw new Error('guarded call did not allow');
    const measured = await paired([
      { name: 'plain', call: () => plain(transferArgs) },
      { name: 'verified', call: () => verified(transferArgs) },
    ]);
    const plainSamples = measured.get('plain')!;
    const verifiedSamples = measured.get('verified')!;
    const median = (samples: Float64Array) => samples[Math.floor(samples.length / 2)]!;
    return [
      sampleRow('identity.guard.allow.rules-10.plain', plainSamples),
      sampleRow('identity.guard.allow.rules-10.verified', verifiedSamples),
      ratioRow('identity.guard.allow.verified.ratio', verifiedSamples, plainSamples),
      report({
        name: 'identity.guard.allow.verified.added',
        median_ns: Math.round(median(verifiedSamples.samples) - median(plainSamples.samples)),
      }),
    ];
  });
}
