import type { OpenApiOptions } from '@cdp/platform/openapi';

/** The profile-store's OpenAPI document (served by `setupOpenApi` of @cdp/platform). */
export const PROFILE_STORE_OPENAPI: OpenApiOptions = {
  title: 'CDP profile-store',
  description:
    'The Profile API: unified profiles by id or type:value, their traits, timeline, identities and segments; ' +
    'search by trait; export and erasure; privacy regulations. Authorization: Bearer <API key> of one workspace ' +
    '(read:profiles to read, write:profiles to erase and regulate).',
};
