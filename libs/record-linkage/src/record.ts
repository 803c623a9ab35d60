/** A person as the matcher sees it: every field optional, as messy as it arrives. */
export interface PersonRecord {
  name?: { first?: string; last?: string };
  /** ISO date `YYYY-MM-DD` (a longer ISO timestamp is cut to its date). */
  birthday?: string;
  address?: { street?: string; city?: string; postalCode?: string; country?: string };
  /** E.164 preferred; national and punctuated formats are tolerated. */
  phone?: string;
  email?: string;
}

/** A record normalized once, so that comparing it with many candidates costs no re-normalization. */
export interface PreparedRecord {
  first?: string;
  /** First name with nicknames mapped to their canonical form (bob → robert). */
  firstCanonical?: string;
  last?: string;
  /** Phonetic code of the last name (blocking and swapped-name detection). */
  lastPhonetic?: string;
  birthday?: { y: number; m: number; d: number; iso: string };
  street?: string;
  streetTokens?: string[];
  city?: string;
  postalCode?: string;
  country?: string;
  /** Last nine digits of the phone: equal for `+44 20 7946 0958` and `020 7946 0958`. */
  phone?: string;
  email?: string;
}

/** A record of a labeled data set: its own id and the id of the real person it describes. */
export interface LabeledRecord {
  id: string;
  entityId: string;
  record: PersonRecord;
}
