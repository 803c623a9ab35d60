import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsString, Matches, MaxLength, MinLength, ValidateNested } from 'class-validator';

export const REGULATION_TYPES = ['suppress', 'delete', 'suppress_with_delete', 'unsuppress'] as const;
export type RegulationType = (typeof REGULATION_TYPES)[number];

/** Most identifiers in one regulation request: enough for a batch of requests, small enough to resolve in one call. */
export const MAX_REGULATION_IDENTIFIERS = 1000;

export class RegulationIdentifier {
  @ApiProperty({ example: 'email', description: 'Identifier type: lower-case letters, digits and _ (user_id, email, anonymous_id, ...).' })
  @IsString()
  @Matches(/^[a-z][a-z0-9_]{0,63}$/, { message: 'identifier type must be lower-case letters, digits and _ (e.g. email, user_id)' })
  type!: string;

  @ApiProperty({ example: 'jane@example.com', description: 'The value; emails are compared lower-cased.' })
  @IsString()
  @MinLength(1, { message: 'identifier value must not be empty' })
  @MaxLength(1024, { message: 'identifier value must be at most 1024 characters' })
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
