/** Outcome of comparing one field of two records. `missing`: either side lacks the field (weight 0). */
export type Level = 'missing' | 'disagree' | 'partial' | 'agree';

/** Numeric codes in a comparison vector (missing first, so 0 means "no evidence"). */
export const LEVELS: readonly Level[] = ['missing', 'disagree', 'partial', 'agree'];
export const MISSING = 0;
export const DISAGREE = 1;
export const PARTIAL = 2;
export const AGREE = 3;
export type LevelCode = 0 | 1 | 2 | 3;

/** The fields the model scores, in comparison-vector order. */
export const FIELDS = ['first', 'last', 'birthday', 'street', 'postalCode', 'phone', 'email'] as const;
export type Field = (typeof FIELDS)[number];
