import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsIn, IsString, Length } from 'class-validator';
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
