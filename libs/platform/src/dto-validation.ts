import { ValidationPipe, type ValidationError } from '@nestjs/common';

/** A DTO field's string trimmed before validation (`@Transform(trimmedString)`); anything else as sent. */
export const trimmedString = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.trim() : value);

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
    return errors.flatMap((error) => messagesOf(error, ''));
  }
}

/**
 * A field's own failure, else its nested fields' (paths like `identifiers.0.type`). The check of
 * a nested field always runs last and says only "nested property x must be either object or
 * array": a field of the wrong type is named by its own type check instead, and its children
 * (read from a value of the wrong shape) are not listed.
 */
function messagesOf(error: ValidationError, parentPath: string): string[] {
  const prefix = parentPath ? `${parentPath}.` : '';
  const constraints = Object.entries(error.constraints ?? {});
  const own = constraints.filter(([name]) => name !== 'nestedValidation');
  if (own.length > 0) return own.slice(-1).map(([, message]) => prefix + message);
  if (error.children?.length) return error.children.flatMap((child) => messagesOf(child, prefix + error.property));
  return constraints.slice(-1).map(([, message]) => prefix + message);
}
