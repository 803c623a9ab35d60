import { ValidationPipe, type ValidationError } from '@nestjs/common';

/**
 * The ValidationPipe of every REST controller: unknown fields refused, values converted to the
 * DTO's types, and one message per field. class-validator runs a field's decorators from the
 * last declared to the first and reports every one that fails, so a value of the wrong type also
 * fails each check after the type check ("name must be a string", "name must be 1 to 200
 * characters", or the same message three times). The message kept is the first declared failing
 * decorator's: DTOs declare their type check first.
 */
export class DtoValidationPipe extends ValidationPipe {
  constructor() {
    super({ transform: true, whitelist: true, forbidNonWhitelisted: true });
  }

  protected override flattenValidationErrors(errors: ValidationError[]): string[] {
    return errors
      .flatMap((error) => this.mapChildrenToValidationErrors(error))
      .flatMap((item) => Object.values(item.constraints ?? {}).slice(-1));
  }
}
