import type { OpenApiOptions } from '@cdp/platform/openapi';
import { definitionSchemas } from './segments/definition-schema';

/** The segmenter's OpenAPI document (served by `setupOpenApi` of @cdp/platform), with the definition AST as components. */
export const segmenterOpenApi = (): OpenApiOptions => ({
  title: 'CDP segmenter',
  description:
    'The Segments API: segment definitions (text or JSON AST), their members, size history and backfill progress; ' +
    'previews of draft definitions; predictions (RFM, churn risk, clusters). Authorization: Bearer <API key> of one ' +
    'workspace (read:segments to read, write:segments to change segments, admin to run predictions, read:profiles ' +
    "for a profile's predictions).",
  schemas: definitionSchemas(),
});
