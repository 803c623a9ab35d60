import type { CdpEventsNormalizedV1 } from './generated';

export type EventType = CdpEventsNormalizedV1.EventType;

/** The Segment call types, in the order of the Avro enum. */
export const EVENT_TYPES: readonly EventType[] = ['identify', 'track', 'page', 'screen', 'group', 'alias'];

export const isEventType = (value: unknown): value is EventType =>
  typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);

/** Identifier types the pipeline knows by name; custom ones come from context.externalIds. */
export const IdentifierTypes = {
  userId: 'user_id',
  anonymousId: 'anonymous_id',
  email: 'email',
  phone: 'phone',
  deviceId: 'device_id',
  advertisingId: 'advertising_id',
} as const;

export interface IdentifierRef {
  type: string;
  value: string;
}
