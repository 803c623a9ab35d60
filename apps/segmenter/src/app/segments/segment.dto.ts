import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';
import { trimmedString } from '@cdp/platform';
import { Limits } from '@cdp/segment-language';
import { OUTPUT_TOPIC } from '../output/segment-topics';
import { DEFINITION_COMPONENT } from './definition-schema';

/** The definition field: the text form (a string) or the JSON AST (an object); the lib checks the rest. */
const IsDefinitionInput = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isDefinitionInput',
      validator: {
        validate: (v: unknown) =>
          (typeof v === 'string' && v.trim().length > 0 && v.length <= Limits.maxTextLength) ||
          (typeof v === 'object' && v !== null && !Array.isArray(v)),
        defaultMessage: () =>
          `definition must be the text form (a non-empty string of at most ${Limits.maxTextLength} characters) or the JSON AST (an object)`,
      },
    },
    options,
  );

/** The OpenAPI form of the definition field (what IsDefinitionInput accepts). */
const DEFINITION_INPUT = {
  description:
    "The text form (a string, e.g. `trait('country') = 'DE'`) or the JSON AST (an object, schema SegmentDefinition; " +
    "as JSON Schema draft-07 at GET /v1/segments/schema). `segment('<name or id>')` is stored as the id.",
  oneOf: [
    { type: 'string', minLength: 1, maxLength: Limits.maxTextLength, example: "trait('country') = 'DE'" },
    { $ref: getSchemaPath(DEFINITION_COMPONENT) },
  ],
};

/** What a segment name must be, said in every message about it. */
const NAME_RULE = 'name must be a string of 1 to 200 characters, without control characters (tab, newline)';

export class SegmentBody {
  /** Trimmed: `" VIP "` and `"VIP"` are one name (unique in the workspace), and a blank one is none. */
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'Germany' })
  @Transform(trimmedString)
  @IsString({ message: NAME_RULE })
  @Length(1, 200, { message: NAME_RULE })
  // A name is printed on one line: in `cdp segments list` and in the example consumer's output.
  @Matches(/^\P{Cc}*$/u, { message: NAME_RULE })
  name!: string;

  @ApiProperty(DEFINITION_INPUT)
  @IsDefinitionInput()
  definition!: unknown;

  /** Traits to carry on every segment change, so a consumer can act without a lookup. */
  @ApiPropertyOptional({
    type: [String],
    maxItems: 50,
    example: ['country', 'plan'],
    description: 'Traits (1 to 200 characters each) carried on every change of the segment, so a consumer can act without a lookup.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Length(1, 200, { each: true })
  outputTraits?: string[];

  /** A topic its changes are also produced on (created on save; CDP_TOPIC_NAMESPACE is prefixed). */
  @ApiPropertyOptional({
    pattern: OUTPUT_TOPIC.source,
    example: 'crm.germany',
    description:
      'A topic its changes also go to: created (and its schema registered) on save; CDP_TOPIC_NAMESPACE is prefixed. Not a platform topic.',
  })
  @IsOptional()
  @IsString()
  @Matches(OUTPUT_TOPIC, { message: 'outputTopic may only contain letters, digits, ".", "_" and "-" (1 to 200 characters)' })
  outputTopic?: string;
}

export class PreviewBody {
  @ApiProperty(DEFINITION_INPUT)
  @IsDefinitionInput()
  definition!: unknown;
}

export class MembersQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1000, default: 100, description: 'Page size.' })
  @IsOptional()
  @Transform(({ value }) => (value === undefined ? undefined : Number(value)))
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  /** The last profile id of the previous page. */
  @ApiPropertyOptional({ minLength: 1, maxLength: 512, description: '`next` of the previous page (the last profile id on it).' })
  @IsOptional()
  @IsString()
  @Length(1, 512)
  after?: string;
}

export class SizeHistoryQuery {
  /** How many UTC days, ending today (none before the segment was created). */
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 366,
    default: 30,
    description: 'How many UTC days, ending today (none before the segment was created).',
  })
  @IsOptional()
  @Transform(({ value }) => (value === undefined ? undefined : Number(value)))
  @IsInt()
  @Min(1)
  @Max(366)
  days?: number;
}
