import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsString, MaxLength, ValidateBy, ValidateNested } from 'class-validator';
import { BUILT_IN_IDENTIFIER_TYPES, misspelledIdentifierType } from '@cdp/contracts';

export const REGULATION_TYPES = ['suppress', 'delete', 'suppress_with_delete', 'unsuppress'] as const;
export type RegulationType = (typeof REGULATION_TYPES)[number];

/** Most identifiers in one regulation request: enough for a batch of requests, small enough to resolve in one call. */
export const MAX_REGULATION_IDENTIFIERS = 1000;

/**
 * Identifier types as the identity-resolver names them: the externalIds type trimmed and
 * lower-cased, then only these characters (the same pattern as @cdp/identity-graph's IDENTIFIER_TYPE,
 * which this service may not import). Anything else never names an identifier.
 */
export const IDENTIFIER_TYPE = /^[a-z0-9_-]{1,64}$/;

// The pipe prefixes each message with the entry's path (identifiers.<index>.), so messages start with the field.
const quoted = (v: unknown): string => JSON.stringify(v) ?? String(v);

export class RegulationIdentifier {
  @ApiProperty({
    example: 'email',
    description:
      `Identifier type: ${BUILT_IN_IDENTIFIER_TYPES.join(', ')}, or a custom type as context.externalIds names it ` +
      '(trimmed and lower-cased like the identity-resolver does; a-z, 0-9, _ and -, at most 64). ' +
      'A near miss of a built-in name (mail, userid) is refused as a misspelling.',
  })
  // Named the way the identity-resolver names an externalIds type, so the same identifier is meant.
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsString({ message: 'type must be a string' })
  @ValidateBy({
    name: 'identifierType',
    validator: {
      validate: (v: unknown) => typeof v !== 'string' || IDENTIFIER_TYPE.test(v),
      defaultMessage: (args) =>
        `type ${quoted(args?.value)} is not an identifier type: lower-case letters, digits, _ and - (at most 64), e.g. email, user_id`,
    },
  })
  @ValidateBy({
    name: 'notMisspelledType',
    validator: {
      validate: (v: unknown) => typeof v !== 'string' || !IDENTIFIER_TYPE.test(v) || misspelledIdentifierType(v) === null,
      defaultMessage: (args) =>
        `type ${quoted(args?.value)} is not an identifier type: did you mean ${misspelledIdentifierType(String(args?.value))}? ` +
        `(built in: ${BUILT_IN_IDENTIFIER_TYPES.join(', ')}; a custom type as context.externalIds names it)`,
    },
  })
  type!: string;

  @ApiProperty({ example: 'jane@example.com', description: 'The value, not blank; trimmed, emails compared lower-cased.' })
  @IsString({ message: 'value must be a string' })
  @ValidateBy({
    name: 'notBlank',
    validator: {
      // Events never carry a blank identifier: such an entry would name nobody.
      validate: (v: unknown) => typeof v !== 'string' || v.trim() !== '',
      defaultMessage: (args) =>
        `value ${quoted(args?.value)} (type ${quoted((args?.object as RegulationIdentifier).type)}) is empty once trimmed`,
    },
  })
  @MaxLength(1024, { message: 'value must be at most 1024 characters' })
  value!: string;
}

export class CreateRegulationBody {
  @ApiProperty({
    enum: REGULATION_TYPES,
    description:
      'suppress: drop future events of these identifiers (here and at the normalizer); delete: erase the profiles they resolve to; ' +
      'suppress_with_delete: both; unsuppress: lift the suppression of these identifiers (events are accepted again; ' +
      'the window after an erasure still holds).',
  })
  @IsIn(REGULATION_TYPES, { message: `type must be one of ${REGULATION_TYPES.join(', ')}` })
  type!: RegulationType;

  @ApiProperty({ type: [RegulationIdentifier], minItems: 1, maxItems: MAX_REGULATION_IDENTIFIERS })
  @IsArray({ message: 'identifiers must be an array of {type, value}' })
  @ArrayMinSize(1, { message: 'identifiers must not be empty' })
  @ArrayMaxSize(MAX_REGULATION_IDENTIFIERS, { message: `at most ${MAX_REGULATION_IDENTIFIERS} identifiers per regulation` })
  @ValidateNested({ each: true })
  @Type(() => RegulationIdentifier)
  identifiers!: RegulationIdentifier[];
}

export class RegulationView {
  @ApiProperty({ example: 'reg_3k2j...' }) regulationId!: string;
  @ApiProperty({ enum: REGULATION_TYPES }) type!: RegulationType;
  @ApiProperty({
    enum: ['in_progress', 'finished'],
    description: 'finished once the suppression is stored (or lifted) and every profile erased.',
  })
  status!: 'in_progress' | 'finished';
  @ApiProperty({ description: 'Distinct identifiers in the request.' }) identifierCount!: number;
  @ApiProperty({ description: 'Profiles the identifiers resolved to (delete types; 0 for suppress and unsuppress).' })
  profilesFound!: number;
  @ApiProperty({ description: 'Of those, erased so far.' }) profilesErased!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiPropertyOptional({ format: 'date-time', nullable: true, type: String }) finishedAt!: string | null;
}
