import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateBy,
  ValidateNested,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';
import { BUILT_IN_IDENTIFIER_TYPES, misspelledIdentifierType } from '@cdp/contracts';
import { IDENTIFIER_TYPE } from '@cdp/identity-graph';
import { fuzzyProblems, type FuzzyRulesInput } from './fuzzy-rules';
import { limitProblem, regexProblem, RULE_BOUNDS, type LimitSetting } from './identity-rules';

const TYPE_RULE = 'a-z, 0-9, "_" and "-", at most 64 characters';

/**
 * Why a type looks like a misspelled built-in one (`emial`), or null: a rule for it would silently
 * apply to no identifier. Custom types (context.externalIds) are any other name.
 */
function misspelling(type: string): string | null {
  const meant = misspelledIdentifierType(type);
  return meant
    ? `is no identifier type: did you mean ${meant}? (built in: ${BUILT_IN_IDENTIFIER_TYPES.join(', ')}; a custom type as context.externalIds names it)`
    : null;
}

const NotMisspelledTypes = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'notMisspelledTypes',
      validator: {
        validate: (value: unknown) => !Array.isArray(value) || value.every((t) => typeof t !== 'string' || misspelling(t) === null),
        defaultMessage: (args?: ValidationArguments) => {
          const type = (args?.value as unknown[]).find((t): t is string => typeof t === 'string' && misspelling(t) !== null) ?? '';
          return `${args?.property ?? 'priority'} names ${JSON.stringify(type)}, which ${misspelling(type) ?? ''}`;
        },
      },
    },
    options,
  );

/** The first problem of a limits object, with the type it concerns. */
function limitsProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be an object of <type>: <limit>';
  const entries = Object.entries(value);
  if (entries.length > RULE_BOUNDS.maxTypes) return `has more than ${RULE_BOUNDS.maxTypes} types`;
  for (const [type, setting] of entries) {
    if (!IDENTIFIER_TYPE.test(type)) return `has an invalid identifier type ${JSON.stringify(type)} (${TYPE_RULE})`;
    const meant = misspelling(type);
    if (meant) return `.${type} ${meant}`;
    const problem = limitProblem(setting);
    if (problem) return `.${type}${problem.startsWith('.') ? '' : ' '}${problem}`;
  }
  return null;
}

const IsLimits = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isLimits',
      validator: {
        validate: (value: unknown) => limitsProblem(value) === null,
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property ?? 'limits'}${limitsProblem(args?.value)?.replace(/^(?!\.)/, ' ') ?? ''}`,
      },
    },
    options,
  );

/** The first refused pattern, with its index, so the 400 names the field exactly. */
function patternsProblem(value: unknown): string | null {
  if (!Array.isArray(value)) return null;
  for (const [i, p] of value.entries()) {
    if (typeof p !== 'string') return `[${i}] must be a string`;
    const problem = regexProblem(p);
    if (problem) return `[${i}] ${JSON.stringify(p)} ${problem}`;
  }
  return null;
}

const AreSafePatterns = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'areSafePatterns',
      validator: {
        validate: (value: unknown) => patternsProblem(value) === null,
        defaultMessage: (args?: ValidationArguments) => `patterns${patternsProblem(args?.value) ?? ''}`,
      },
    },
    options,
  );

/** The `fuzzy` section, checked by `fuzzyProblems` (the matching settings by the lib's `parseMatchingConfig`). */
const IsFuzzySection = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isFuzzySection',
      validator: {
        validate: (value: unknown) => fuzzyProblems(value).length === 0,
        defaultMessage: (args?: ValidationArguments) => fuzzyProblems(args?.value).join('; '),
      },
    },
    options,
  );

export class BlockedValuesDto {
  @IsOptional()
  @IsArray({ message: 'values must be an array of strings' })
  @ArrayMaxSize(RULE_BOUNDS.maxBlockedValues, { message: `values has at most ${RULE_BOUNDS.maxBlockedValues} entries` })
  @IsString({ each: true, message: 'values must be an array of strings' })
  @Length(1, RULE_BOUNDS.maxBlockedValueLength, {
    each: true,
    message: `each of values must be 1 to ${RULE_BOUNDS.maxBlockedValueLength} characters`,
  })
  values?: string[];

  @IsOptional()
  @IsArray({ message: 'patterns must be an array of regular expressions (strings)' })
  @ArrayMaxSize(RULE_BOUNDS.maxPatterns, { message: `patterns has at most ${RULE_BOUNDS.maxPatterns} entries` })
  @AreSafePatterns()
  patterns?: string[];
}

/** Body of PUT /v1/identity-rules: every field optional, omitted ones take the defaults. */
export class IdentityRulesDto {
  @IsOptional()
  @IsArray({ message: 'priority must be an array of identifier types, strongest first' })
  @ArrayMaxSize(RULE_BOUNDS.maxTypes, { message: `priority has at most ${RULE_BOUNDS.maxTypes} types` })
  @IsString({ each: true, message: 'priority must be an array of identifier types, strongest first' })
  @ArrayUnique({ message: 'priority must not name a type twice' })
  @Matches(IDENTIFIER_TYPE, { each: true, message: `each type in priority may only contain ${TYPE_RULE}` })
  @NotMisspelledTypes()
  priority?: string[];

  @IsOptional()
  @IsLimits()
  limits?: Record<string, LimitSetting>;

  @IsOptional()
  @IsInt({ message: `defaultLimit must be an integer from 1 to ${RULE_BOUNDS.maxLimit}` })
  @Min(1, { message: `defaultLimit must be an integer from 1 to ${RULE_BOUNDS.maxLimit}` })
  @Max(RULE_BOUNDS.maxLimit, { message: `defaultLimit must be an integer from 1 to ${RULE_BOUNDS.maxLimit}` })
  defaultLimit?: number;

  @IsOptional()
  @IsInt({ message: `maxIdentifiers must be an integer from 1 to ${RULE_BOUNDS.maxLimit}` })
  @Min(1, { message: `maxIdentifiers must be an integer from 1 to ${RULE_BOUNDS.maxLimit}` })
  @Max(RULE_BOUNDS.maxLimit, { message: `maxIdentifiers must be an integer from 1 to ${RULE_BOUNDS.maxLimit}` })
  maxIdentifiers?: number;

  @IsOptional()
  @IsInt({ message: `maxMerges must be an integer from 1 to ${RULE_BOUNDS.maxLimit}` })
  @Min(1, { message: `maxMerges must be an integer from 1 to ${RULE_BOUNDS.maxLimit}` })
  @Max(RULE_BOUNDS.maxLimit, { message: `maxMerges must be an integer from 1 to ${RULE_BOUNDS.maxLimit}` })
  maxMerges?: number;

  @IsOptional()
  @IsObject({ message: 'blocked must be an object {values?, patterns?}' })
  @ValidateNested()
  @Type(() => BlockedValuesDto)
  blocked?: BlockedValuesDto;

  @IsOptional()
  @IsFuzzySection()
  fuzzy?: FuzzyRulesInput;
}
