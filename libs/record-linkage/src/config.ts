import { FIELDS, type Field } from './levels';
import { DEFAULT_MATCHING_CONFIG, type FieldParameters, type LevelProbabilities, type MatchingConfig } from './model';

export type ConfigResult = { ok: true; config: MatchingConfig } | { ok: false; errors: string[] };

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Validates a (partial) matching configuration as a workspace would PUT it in its identity rules, merged over
 * the defaults field by field. Errors name the path, for a 400 answer.
 */
export function parseMatchingConfig(input: unknown, base: MatchingConfig = DEFAULT_MATCHING_CONFIG): ConfigResult {
  const errors: string[] = [];
  if (input === undefined || input === null) return { ok: true, config: base };
  if (!isObject(input)) return { ok: false, errors: ['matching: expected an object'] };
  const known = new Set(['fields', 'autoMergeThreshold', 'reviewThreshold', 'vetoOnDisagree', 'requireAnyOf', 'requireAgreementOn']);
  for (const k of Object.keys(input)) if (!known.has(k)) errors.push(`matching.${k}: unknown setting`);

  const fields = { ...base.fields };
  if (input['fields'] !== undefined) {
    if (!isObject(input['fields'])) errors.push('matching.fields: expected an object');
    else
      for (const [name, value] of Object.entries(input['fields'])) {
        if (!(FIELDS as readonly string[]).includes(name)) {
          errors.push(`matching.fields.${name}: unknown field (one of ${FIELDS.join(', ')})`);
          continue;
        }
        const parsed = fieldParameters(`matching.fields.${name}`, value, base.fields[name as Field], errors);
        if (parsed) fields[name as Field] = parsed;
      }
  }
  const threshold = (key: 'autoMergeThreshold' | 'reviewThreshold'): number => {
    const v = input[key];
    if (v === undefined) return base[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) errors.push(`matching.${key}: expected a number (bits)`);
    return typeof v === 'number' ? v : base[key];
  };
  const autoMergeThreshold = threshold('autoMergeThreshold');
  const reviewThreshold = threshold('reviewThreshold');
  if (reviewThreshold > autoMergeThreshold) errors.push('matching.reviewThreshold: must not exceed autoMergeThreshold');
  const fieldList = (key: 'vetoOnDisagree' | 'requireAnyOf' | 'requireAgreementOn'): Field[] => {
    const v = input[key];
    if (v === undefined) return base[key];
    if (!Array.isArray(v) || !v.every((f) => (FIELDS as readonly unknown[]).includes(f))) {
      errors.push(`matching.${key}: expected a list of fields (${FIELDS.join(', ')})`);
      return base[key];
    }
    return [...new Set(v as Field[])];
  };
  const config: MatchingConfig = {
    fields,
    autoMergeThreshold,
    reviewThreshold,
    vetoOnDisagree: fieldList('vetoOnDisagree'),
    requireAnyOf: fieldList('requireAnyOf'),
    requireAgreementOn: fieldList('requireAgreementOn'),
  };
  return errors.length ? { ok: false, errors } : { ok: true, config };
}

function fieldParameters(path: string, value: unknown, base: FieldParameters, errors: string[]): FieldParameters | undefined {
  if (!isObject(value)) {
    errors.push(`${path}: expected {m, u}`);
    return undefined;
  }
  const m = value['m'] === undefined ? base.m : probabilities(`${path}.m`, value['m'], errors);
  const u = value['u'] === undefined ? base.u : probabilities(`${path}.u`, value['u'], errors);
  return m && u ? { m, u } : undefined;
}

function probabilities(path: string, value: unknown, errors: string[]): LevelProbabilities | undefined {
  if (!isObject(value)) {
    errors.push(`${path}: expected {agree, partial, disagree}`);
    return undefined;
  }
  const [agree, partial, disagree] = (['agree', 'partial', 'disagree'] as const).map((level) => value[level]);
  for (const [level, p] of [
    ['agree', agree],
    ['partial', partial],
    ['disagree', disagree],
  ] as const) {
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
      errors.push(`${path}.${level}: expected a probability in [0, 1]`);
      return undefined;
    }
  }
  const out = { agree: agree as number, partial: partial as number, disagree: disagree as number };
  const sum = out.agree + out.partial + out.disagree;
  if (Math.abs(sum - 1) > 0.01) {
    errors.push(`${path}: probabilities must sum to 1 (got ${sum.toFixed(3)})`);
    return undefined;
  }
  return out;
}
