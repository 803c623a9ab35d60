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
import { Limits } from '@cdp/segment-language';
import { OUTPUT_TOPIC } from '../output/segment-topics';

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

export class SegmentBody {
  @IsString()
  @Length(1, 200)
  name!: string;

  @IsDefinitionInput()
  definition!: unknown;

  /** Traits to carry on every segment change, so a consumer can act without a lookup. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Length(1, 200, { each: true })
  outputTraits?: string[];

  /** A topic its changes are also produced on (created on save; CDP_TOPIC_NAMESPACE is prefixed). */
  @IsOptional()
  @IsString()
  @Matches(OUTPUT_TOPIC, { message: 'outputTopic may only contain letters, digits, ".", "_" and "-" (1 to 200 characters)' })
  outputTopic?: string;
}

export class PreviewBody {
  @IsDefinitionInput()
  definition!: unknown;
}

export class MembersQuery {
  @IsOptional()
  @Transform(({ value }) => (value === undefined ? undefined : Number(value)))
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  /** The last profile id of the previous page. */
  @IsOptional()
  @IsString()
  @Length(1, 512)
  after?: string;
}

export class SizeHistoryQuery {
  /** How many UTC days, ending today. */
  @IsOptional()
  @Transform(({ value }) => (value === undefined ? undefined : Number(value)))
  @IsInt()
  @Min(1)
  @Max(366)
  days?: number;
}
