import { createHash } from 'node:crypto';
import {
  CdpEventsDlqV1,
  CdpEventsNormalizedV1,
  CdpEventsRawV1,
  CdpEventsResolvedV1,
  CdpIdentityMergesV1,
  CdpIdentityRemovalsV1,
  CdpProfilesChangesV1,
  CdpPrivacySuppressionsV1,
  CdpSegmentsChangesV1,
  CdpSegmentsDefinitionsV1,
  type DeadLetter,
  type IdentityMerge,
  type IdentityRemoval,
  type NormalizedEvent,
  type ProfileChange,
  type RawEvent,
  type ResolvedEvent,
  type SegmentChange,
  type SegmentDefinition,
  type Suppression,
} from './generated';

/** One topic of the pipeline: its name, Avro value schema and how its keys are formed. */
export interface TopicDef<TValue> {
  readonly name: string;
  /** Avro schema (JSON text) of the value, registered under subject `<name>-value`. */
  readonly schema: string;
  /** How the key is built; every key starts with the workspace id. */
  readonly key: string;
  readonly cleanupPolicy: 'delete' | 'compact';
  /** Phantom field: carries the value type for the serde; never set. */
  readonly _value?: TValue;
}

const topic = <T>(name: string, schema: string, key: string, cleanupPolicy: 'delete' | 'compact' = 'delete'): TopicDef<T> => ({
  name,
  schema,
  key,
  cleanupPolicy,
});

/** The catalog of the public topics (brief section 3). */
export const Topics = {
  rawEvents: topic<RawEvent>('cdp.events.raw.v1', CdpEventsRawV1.RawEventSchema, '<workspaceId>:<anonymousId|userId|messageId>'),
  normalizedEvents: topic<NormalizedEvent>(
    'cdp.events.normalized.v1',
    CdpEventsNormalizedV1.NormalizedEventSchema,
    '<workspaceId>:<anonymousId|userId|messageId>',
  ),
  deadLetters: topic<DeadLetter>('cdp.events.dlq.v1', CdpEventsDlqV1.DeadLetterSchema, '<workspaceId|unknown>:<sourceTopic>'),
  identityMerges: topic<IdentityMerge>('cdp.identity.merges.v1', CdpIdentityMergesV1.IdentityMergeSchema, '<workspaceId>:<intoProfileId>'),
  identityRemovals: topic<IdentityRemoval>(
    'cdp.identity.removals.v1',
    CdpIdentityRemovalsV1.IdentityRemovalSchema,
    '<workspaceId>:<profileId>',
  ),
  resolvedEvents: topic<ResolvedEvent>('cdp.events.resolved.v1', CdpEventsResolvedV1.ResolvedEventSchema, '<workspaceId>:<profileId>'),
  profileChanges: topic<ProfileChange>(
    'cdp.profiles.changes.v1',
    CdpProfilesChangesV1.ProfileChangeSchema,
    '<workspaceId>:<profileId>',
    'compact',
  ),
  segmentChanges: topic<SegmentChange>('cdp.segments.changes.v1', CdpSegmentsChangesV1.SegmentChangeSchema, '<workspaceId>:<profileId>'),
  segmentDefinitions: topic<SegmentDefinition>(
    'cdp.segments.definitions.v1',
    CdpSegmentsDefinitionsV1.SegmentDefinitionSchema,
    '<workspaceId>:<segmentId>',
    'compact',
  ),
  suppressions: topic<Suppression>(
    'cdp.privacy.suppressions.v1',
    CdpPrivacySuppressionsV1.SuppressionSchema,
    '<workspaceId>:<identifierHash>',
    'compact',
  ),
} as const;

/**
 * Every reason code a stage writes on cdp.events.dlq.v1 (`DeadLetter.reason`; the table in
 * libs/contracts/README.md says what each means). The writers check theirs against it and the
 * DLQ API and the CLI refuse a filter on any other code: add a new code here first.
 */
export const DLQ_REASONS = [
  // decoding, any stage (libs/kafka)
  'empty_value',
  'not_confluent_avro',
  'unknown_schema_id',
  'wrong_schema',
  'undecodable',
  // normalizer
  'missing_workspace',
  'invalid_json',
  'invalid_type',
  'missing_identity',
  'missing_event',
  'missing_group_id',
  'missing_previous_id',
  'too_deep',
  'too_many_keys',
  'too_large',
  'tracking_plan_violation',
  // identity-resolver
  'no_identifiers',
  // profile-store
  'missing_ids',
  'invalid_merge',
  'invalid_segment_change',
  'invalid_removal',
  // segmenter
  'invalid_traits',
  'invalid_computed_traits',
  'invalid_event_properties',
] as const;

export type DlqReason = (typeof DLQ_REASONS)[number];

export const isDlqReason = (value: unknown): value is DlqReason =>
  typeof value === 'string' && (DLQ_REASONS as readonly string[]).includes(value);

export type TopicId = keyof typeof Topics;
export const ALL_TOPICS: readonly TopicDef<unknown>[] = Object.values(Topics);

/**
 * The name a topic has in a deployment. A namespace (CDP_TOPIC_NAMESPACE) lets tests and
 * side-by-side environments share one cluster; production leaves it empty.
 */
export const topicName = (def: TopicDef<unknown>, namespace = ''): string => `${namespace}${def.name}`;

/** Subject of a topic's value schema (Confluent TopicNameStrategy). */
export const valueSubject = (topicFullName: string): string => `${topicFullName}-value`;

const KEY_SEPARATOR = ':';

/** Builds a record key: the workspace id first, then the partitioning id. */
export const recordKey = (workspaceId: string, id: string): string => `${workspaceId}${KEY_SEPARATOR}${id}`;

/**
 * The hash a suppressed identifier is known by on cdp.privacy.suppressions.v1 (and in the
 * profile-store's erasure records): hex sha-256 of the workspace and `type:value`, so producer
 * and consumers agree without sharing the value. Values as events carry them (trimmed, emails
 * lower-cased); the hash does not normalize.
 */
export const identifierHash = (workspaceId: string, type: string, value: string): string =>
  createHash('sha256').update(`${workspaceId}\nid:${type}:${value}`, 'utf8').digest('hex');

/**
 * The workspace a record key belongs to; '' for a key without one (no separator: an app keying
 * by user id alone must not have that id taken for a workspace).
 */
export const workspaceOfKey = (key: string): string => {
  const end = key.indexOf(KEY_SEPARATOR);
  return end < 0 ? '' : key.slice(0, end);
};
