import { expectTypeOf, test } from 'vitest';
import {
  type AgentRecord,
  type CredentialCheck,
  type CredentialClaims,
  type CredentialErrorCode,
  type credentialVerifier,
  delegateCredential,
  issueCredential,
  type KeySet,
  verifyCredential,
} from '../../src/identity/index.ts';
import type { SecretProvider } from '../../src/index.ts';

test('the identity API has the shapes DESIGN.md pins', () => {
  expectTypeOf(issueCredential).returns.toEqualTypeOf<Promise<string>>();
  expectTypeOf(delegateCredential).returns.toEqualTypeOf<Promise<string>>();
  expectTypeOf(verifyCredential).returns.toEqualTypeOf<Promise<CredentialClaims>>();
  expectTypeOf<CredentialClaims['sub']>().toEqualTypeOf<string>();
  expectTypeOf<CredentialClaims['intent']>().toEqualTypeOf<string | undefined>();
  expectTypeOf<KeySet['retire']>().returns.toEqualTypeOf<boolean>();
  expectTypeOf<AgentRecord['status']>().toEqualTypeOf<'active' | 'suspended' | 'revoked'>();
  expectTypeOf<
    ReturnType<ReturnType<typeof credentialVerifier>['verify']>
  >().toEqualTypeOf<CredentialCheck>();
  expectTypeOf<'AGENT_SUSPENDED'>().toExtend<CredentialErrorCode>();
  // @ts-expect-error: a child credential cannot be given another principal
  void delegateCredential({} as never, '', { principal: 'user:1' });
  // @ts-expect-error: issue needs an audience
  void issueCredential({} as never, { agent: 'a', principal: 'p', tools: ['t'] });
  expectTypeOf<SecretProvider['get']>().parameter(0).toEqualTypeOf<string>();
});
