import { type SecretScrubber, secretScrubber } from '../../src/secrets/scrubber.ts';

/** A scrubber remembering each of `secrets` (name to value). */
export function scrubberWith(secrets: Record<string, string>): SecretScrubber {
  const scrub = secretScrubber();
  for (const [name, value] of Object.entries(secrets)) scrub.add(name, value);
  return scrub;
}
