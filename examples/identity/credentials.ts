// Agent identity without a guard yet: keys, a registry, a credential, a narrower child credential
// for a sub-agent, verification, and a revocation that reaches the child. Run: npx tsx examples/identity/credentials.ts
import { memoryStore } from 'toolgate';
import {
  agentRegistry,
  CredentialError,
  createKeySet,
  delegateCredential,
  generateSigningKey,
  issueCredential,
  verifyCredential,
} from 'toolgate/identity';

const keys = await createKeySet({ signing: await generateSigningKey({ kid: 'k1' }) });
const registry = agentRegistry({ store: memoryStore() }); // redisStore() to share it between processes

await registry.register('support-bot', {
  owner: 'team:support',
  tools: ['db.*', 'payments.refund'],
  principals: ['user:*'],
  maxTtl: '1h',
});
await registry.register('sql-helper', {
  owner: 'team:data',
  tools: ['db.query'],
  principals: ['user:*'],
  maxTtl: '10m',
});

// A credential for one run: this agent, for this user and ticket, these tools, 15 minutes.
const token = await issueCredential(
  { keys, registry },
  {
    agent: 'support-bot',
    principal: 'user:42',
    intent: 'ticket-123',
    tools: ['db.*'],
    ttl: '15m',
    audience: 'shop',
  },
);
// The agent hands a sub-agent a narrower one: fewer tools, shorter life, same user and ticket.
const child = await delegateCredential({ keys, registry }, token, {
  agent: 'sql-helper',
  tools: ['db.query'],
  ttl: '5m',
});

const claims = await verifyCredential({ keys, registry, audience: 'shop' }, child);
console.log(`${claims.sub} acts for ${claims.principal} on ${claims.intent} with ${claims.tools.join(', ')}`);

// Widening is refused at issue and at delegation.
const wider = await delegateCredential({ keys, registry }, child, { tools: ['db.*'] }).catch(
  (error: unknown) => error,
);
console.log('widening:', CredentialError.isInstance(wider) ? wider.code : wider);

// Revoking the parent revokes every credential delegated from it, in every process sharing the store.
const parent = await verifyCredential({ keys, registry, audience: 'shop' }, token);
await registry.revokeCredential(parent.jti, { reason: 'run finished' });
const refused = await verifyCredential({ keys, registry, audience: 'shop' }, child).catch(
  (error: unknown) => error,
);
console.log('after revocation:', CredentialError.isInstance(refused) ? refused.code : refused);
if (!CredentialError.isInstance(refused) || refused.code !== 'CREDENTIAL_REVOKED') process.exit(1);
