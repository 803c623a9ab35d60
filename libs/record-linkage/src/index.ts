export type { LabeledRecord, PersonRecord, PreparedRecord } from './record';
export { FIELDS, LEVELS, type Field, type Level, type LevelCode } from './levels';
export {
  isEligible,
  normalizeText,
  normalizeName,
  normalizePhone,
  normalizePostalCode,
  normalizeBirthday,
  prepareRecord,
} from './normalize';
export { canonicalFirstName } from './nicknames';
export { soundex } from './phonetic';
export { jaro, jaroWinkler } from './jaro-winkler';
export * from './comparators';
export { blockingKeys, candidatePairs, type BlockingOptions, type CandidatePairs } from './blocking';
export * from './model';
export { estimateParameters, estimateU, estimateWeights, PatternCounts, type EmOptions, type EmResult, type WeightEstimate } from './em';
export { generateLabeledRecords, type GeneratorOptions } from './generator';
export { evaluate, type Evaluation, type EvaluateOptions } from './evaluate';
export { mulberry32 } from './random';
export { parseMatchingConfig, type ConfigResult } from './config';
