import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { SCOPES, type Scope } from '@cdp/access';
import { trimmedString } from '@cdp/platform';

export class CreateWorkspaceDto {
  @Transform(trimmedString)
  @IsString({ message: '"name" is required: a string of 1 to 200 characters' })
  @Length(1, 200, { message: '"name" is required: a string of 1 to 200 characters' })
  name!: string;
}

export class CreateSourceDto {
  @Transform(trimmedString)
  @IsString({ message: '"name" must be a string of 1 to 200 characters' })
  @Length(1, 200, { message: '"name" must be a string of 1 to 200 characters' })
  name!: string;
}

export class CreateApiKeyDto {
  @Transform(trimmedString)
  @IsString({ message: '"name" must be a string of 1 to 200 characters' })
  @Length(1, 200, { message: '"name" must be a string of 1 to 200 characters' })
  name!: string;

  @IsArray({ message: `"scopes" must be an array of: ${SCOPES.join(', ')}` })
  @ArrayNotEmpty({ message: '"scopes" must name at least one scope' })
  @ArrayMaxSize(SCOPES.length, { message: `"scopes" has at most ${SCOPES.length} entries` })
  @IsIn(SCOPES, { each: true, message: `each of "scopes" must be one of: ${SCOPES.join(', ')}` })
  scopes!: Scope[];
}

/** Seconds the previous write keys keep working after a rotation, at most 7 days. */
export const MAX_ROTATION_GRACE_SECONDS = 7 * 24 * 3600;
const GRACE = `"graceSeconds" must be a whole number of seconds from 0 to ${MAX_ROTATION_GRACE_SECONDS} (7 days)`;

export class RotateKeyDto {
  @IsOptional()
  @IsInt({ message: GRACE })
  @Min(0, { message: GRACE })
  @Max(MAX_ROTATION_GRACE_SECONDS, { message: GRACE })
  graceSeconds?: number;
}
