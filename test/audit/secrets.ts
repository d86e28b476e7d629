/** Planted secrets, one per detector: none of them may ever appear in a sink's output. */
export const SECRETS = {
  bearer: 'Bearer eyZpLanted0bearerTokenValue1234567890',
  aws: 'AKIAIOSFODNN7PLANTED',
  awsSecret: 'aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYPLANTED0KEY',
  privateKey:
    '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQPLANTED\n-----END PRIVATE KEY-----',
  jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.c2lnbmF0dXJlUGxhbnRlZA',
  openai: 'sk-proj-PLANTEDabcdefghijklmnopqrstuvwxyz012345',
  github: 'ghp_PLANTEDabcdefghijklmnopqrstuvwxyz0123',
  stripe: 'sk_live_PLANTEDabcdefghijklmnop1234',
  slack: 'xoxb-123456789012-PLANTEDabcdef',
  card: '4111111111111111',
} as const;

/** The distinctive part of every planted secret (what a grep must never find). */
export const SECRET_VALUES: readonly string[] = [
  'eyZpLanted0bearerTokenValue1234567890',
  'AKIAIOSFODNN7PLANTED',
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYPLANTED0KEY',
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQPLANTED',
  'eyJzdWIiOiJwbGFudGVkIn0',
  'PLANTEDabcdefghijklmnopqrstuvwxyz012345',
  'ghp_PLANTED',
  'sk_live_PLANTED',
  'xoxb-123456789012',
  '4111111111111111',
];
