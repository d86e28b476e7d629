/**
 * Agent identity: Ed25519 keys, an agent registry in the StateStore, short-lived credentials
 * (compact JWS, EdDSA) that only narrow when delegated, and their verification. See
 * docs/identity.md. Uses `node:crypto` only.
 */
export { CredentialError, type CredentialErrorCode } from '../errors.ts';
export {
  type CredentialClaims,
  type CredentialLink,
  MAX_DELEGATION_DEPTH,
  MAX_LIFETIME_MS,
  MAX_TOKEN_LENGTH,
} from './claims.ts';
export {
  type CredentialAuthority,
  type DelegateCredentialOptions,
  type DelegationAuthority,
  delegateCredential,
  type IssueCredentialOptions,
  issueCredential,
} from './issue.ts';
export { type Ed25519PrivateJwk, type Ed25519PublicJwk, type JwkSet, thumbprint } from './jwk.ts';
export {
  createKeySet,
  type ExternalSigner,
  exportSigningKey,
  type GenerateSigningKeyOptions,
  generateSigningKey,
  type ImportKeySetOptions,
  importKeySet,
  importSigningKey,
  type KeySet,
  type KeySetOptions,
  type SigningKey,
} from './keys.ts';
export {
  type AgentRecord,
  type AgentRegistry,
  type AgentRegistryOptions,
  type AgentStatus,
  agentRegistry,
  type RegisterAgentOptions,
  type SuspendAgentOptions,
} from './registry.ts';
export { revocationCode } from './revocation-keys.ts';
export { CREDENTIAL_TYP, type VerifiedCredential } from './token.ts';
export {
  type CredentialCheck,
  type CredentialVerifier,
  credentialVerifier,
  type VerifyCredentialOptions,
  verifyCredential,
} from './verify.ts';
