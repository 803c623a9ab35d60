import { getSchemaPath, type SchemaObject } from '@nestjs/swagger';
import { SEGMENT_DEFINITION_SCHEMA } from '@cdp/segment-language';

/** The component of the definition AST in the OpenAPI document; its parts are `SegmentDefinition.<part>`. */
export const DEFINITION_COMPONENT = 'SegmentDefinition';

type Schema = Readonly<Record<string, unknown>>;
const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

const componentOf = (part: string): string => (part === 'condition' ? DEFINITION_COMPONENT : `${DEFINITION_COMPONENT}.${part}`);

/** `#/definitions/<part>` of the published schema, as a reference into the OpenAPI components. */
const refOf = (pointer: unknown): string => {
  const part = /^#\/definitions\/([A-Za-z0-9_]+)$/.exec(String(pointer))?.[1];
  if (!part) throw new Error(`unexpected $ref ${String(pointer)} in the segment definition schema`);
  return getSchemaPath(componentOf(part));
};

/** OpenAPI 3.0 has no type lists: one branch per type, null allowed on the first (nullable needs a type beside it). */
const typeList = (types: readonly unknown[]): Record<string, unknown> => {
  const nullable = types.includes('null');
  const rest = types.filter((t) => t !== 'null');
  if (rest.length === 1) return { type: rest[0], ...(nullable ? { nullable: true } : {}) };
  return { anyOf: rest.map((type, i) => ({ type, ...(nullable && i === 0 ? { nullable: true } : {}) })) };
};

/**
 * One schema of the published draft-07 schema in the OpenAPI 3.0 dialect: `const` becomes a
 * one-value `enum`, a type list `anyOf`, references point into the components; the rest (the
 * subset of draft-07 the published schema uses) is the same in both.
 */
function toOpenApi(schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [keyword, v] of Object.entries(schema)) {
    if (keyword === '$ref') out['$ref'] = refOf(v);
    else if (keyword === 'const') out['enum'] = [v];
    else if (keyword === 'type' && Array.isArray(v)) Object.assign(out, typeList(v));
    else if ((keyword === 'items' || keyword === 'not' || keyword === 'additionalProperties') && isSchema(v)) out[keyword] = toOpenApi(v);
    else if ((keyword === 'allOf' || keyword === 'anyOf' || keyword === 'oneOf') && Array.isArray(v))
      out[keyword] = v.map((s: unknown) => toOpenApi(s as Schema));
    else if (keyword === 'properties' && isSchema(v))
      out[keyword] = Object.fromEntries(Object.entries(v).map(([name, s]) => [name, toOpenApi(s as Schema)]));
    else out[keyword] = v;
  }
  return out;
}

/**
 * The published JSON Schema of the definition AST (SEGMENT_DEFINITION_SCHEMA, GET
 * /v1/segments/schema) as OpenAPI components, so the document describes the AST itself rather
 * than "an object". Its root is `SegmentDefinition` (the `condition`).
 */
export function definitionSchemas(): Record<string, SchemaObject> {
  const { title, description, definitions } = SEGMENT_DEFINITION_SCHEMA;
  const parts = Object.entries(definitions as Record<string, Schema>).map(([part, s]): [string, Record<string, unknown>] => [
    componentOf(part),
    toOpenApi(s),
  ]);
  const schemas = Object.fromEntries(parts) as Record<string, SchemaObject>;
  schemas[DEFINITION_COMPONENT] = {
    ...schemas[DEFINITION_COMPONENT],
    title,
    description: `${description} The same schema as JSON Schema draft-07: GET /v1/segments/schema.`,
  };
  return schemas;
}
