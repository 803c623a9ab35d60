import { createHash } from 'node:crypto';

/** A flagged event as the violation summary needs it. */
export interface FlaggedEvent {
  workspaceId: string;
  /** `track` or `identify`: the only types a plan checks. */
  type: string;
  /** The track event's name; null for identify (its traits were checked). */
  event: string | null;
  messageId: string;
  /** `planViolations` of `@cdp/cleaning`: `<where><instancePath> <message>`. */
  violations: readonly string[];
}

/** What one summary row is about: the workspace's rows are one per distinct kind. */
export interface ViolationKind {
  eventType: string;
  event: string | null;
  /** Where in the event, array indexes as `*` (`properties/products/*\/price`); `event` for an unplanned event. */
  path: string;
  /** What is wrong, without the path (`must be number`). */
  kind: string;
}

export interface ViolationSummary extends ViolationKind {
  /** Fingerprint of the kind: the row's id within its workspace. */
  key: string;
  /** Events with this violation (an event counts once per kind, however many array items break it). */
  count: number;
  /** The last such event and its violation as reported. */
  exampleMessageId: string;
  exampleMessage: string;
}

// Bounds on what a client's data can put into a row: event names and property keys are theirs.
export const MAX_EVENT_CHARS = 200;
export const MAX_PATH_CHARS = 200;
export const MAX_KIND_CHARS = 200;
export const MAX_MESSAGE_CHARS = 500;

/** How ajv's messages (and the plan's unplanned-event message) begin: what separates the path from the kind. */
const MESSAGE_STARTS = [' must ', ' property name must ', ' tag "', ' value of tag "'];
const UNPLANNED = /^event ".*" is not in the tracking plan$/s;
// ajv names the two items of a uniqueItems failure: data, not a kind of its own.
const DUPLICATE_ITEMS = / \(items ## \d+ and \d+ are identical\)$/;

/** Splits a violation into where and what; text of another shape is all kind. */
export function parseViolation(text: string): { path: string; kind: string } {
  if (UNPLANNED.test(text)) return { path: 'event', kind: 'is not in the tracking plan' };
  const at = Math.min(...MESSAGE_STARTS.map((m) => text.indexOf(m)).filter((i) => i >= 0));
  const path = Number.isFinite(at) ? text.slice(0, at) : '';
  if (!/^(properties|traits)(\/|$)/.test(path)) return { path: '', kind: text.slice(0, MAX_KIND_CHARS) };
  return {
    // Each array item would be a row of its own.
    path: path
      .split('/')
      .map((s) => (/^\d+$/.test(s) ? '*' : s))
      .join('/')
      .slice(0, MAX_PATH_CHARS),
    kind: text
      .slice(at + 1)
      .replace(DUPLICATE_ITEMS, '')
      .slice(0, MAX_KIND_CHARS),
  };
}

/** A short, stable fingerprint of a kind (the `_id` stays short whatever the names). */
export const violationKey = (k: ViolationKind): string =>
  createHash('sha256')
    .update(JSON.stringify([k.eventType, k.event, k.path, k.kind]))
    .digest('base64url')
    .slice(0, 22);

/** One summary per kind, per workspace, of a chunk's flagged events (in offset order: the last is the example). */
export function summarize(events: readonly FlaggedEvent[]): Map<string, ViolationSummary[]> {
  const byWorkspace = new Map<string, ViolationSummary[]>();
  for (const e of events) {
    // Per event, each kind once.
    const kinds = new Map<string, ViolationSummary>();
    for (const text of e.violations) {
      const kind: ViolationKind = { eventType: e.type, event: e.event?.slice(0, MAX_EVENT_CHARS) ?? null, ...parseViolation(text) };
      const key = violationKey(kind);
      kinds.set(key, { ...kind, key, count: 1, exampleMessageId: e.messageId, exampleMessage: text.slice(0, MAX_MESSAGE_CHARS) });
    }
    if (kinds.size === 0) continue;
    const list = byWorkspace.get(e.workspaceId);
    if (list) list.push(...kinds.values());
    else byWorkspace.set(e.workspaceId, [...kinds.values()]);
  }
  for (const [workspaceId, list] of byWorkspace) byWorkspace.set(workspaceId, combine(list));
  return byWorkspace;
}

/** Summaries of one workspace merged by kind: counts added, the later example kept. */
export function combine(summaries: readonly ViolationSummary[]): ViolationSummary[] {
  const byKey = new Map<string, ViolationSummary>();
  for (const s of summaries) {
    const seen = byKey.get(s.key);
    byKey.set(s.key, seen ? { ...s, count: seen.count + s.count } : s);
  }
  return [...byKey.values()];
}
