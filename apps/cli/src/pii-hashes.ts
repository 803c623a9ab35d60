import type { Ask } from './normalizer-commands';
import { normalizerRequests } from './normalizer-requests';
import type { CliConfig } from './requests';

/**
 * What the workspace's PII policy stores instead of each identifier (null: the value itself),
 * asked of the normalizer (admin scope); a refusal or an unreachable normalizer throws.
 */
export async function storedHashes(
  ask: Ask,
  c: CliConfig,
  identifiers: readonly { type: string; value: string }[],
): Promise<(string | null)[]> {
  const answer = (await ask(normalizerRequests.piiHashes(c, identifiers))) as { identifiers?: { hashed: string | null }[] };
  return identifiers.map((_, i) => answer.identifiers?.[i]?.hashed ?? null);
}
