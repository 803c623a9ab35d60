import type { Ask } from './normalizer-commands';
import { normalizerRequests } from './normalizer-requests';
import type { CliConfig } from './requests';

/** An identifier as the workspace stores it: `value` cleaned as its events are (a phone in E.164 read in its default region), `hashed` where its PII policy hashes it. */
export interface StoredForm {
  value: string;
  hashed: string | null;
}

/**
 * What the workspace stores for each identifier, asked of the normalizer (admin scope), which
 * knows its default region and PII policy; a refusal or an unreachable normalizer throws.
 */
export async function storedForms(ask: Ask, c: CliConfig, identifiers: readonly { type: string; value: string }[]): Promise<StoredForm[]> {
  const answer = (await ask(normalizerRequests.piiHashes(c, identifiers))) as { identifiers?: { value?: string; hashed: string | null }[] };
  return identifiers.map((id, i) => ({
    value: answer.identifiers?.[i]?.value ?? id.value,
    hashed: answer.identifiers?.[i]?.hashed ?? null,
  }));
}

/** The form the profiles and the identity graph hold: the hash where the policy hashes, else the cleaned value. */
export const heldValue = (form: StoredForm): string => form.hashed ?? form.value;
