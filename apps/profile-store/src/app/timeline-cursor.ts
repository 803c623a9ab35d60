/** Where a timeline page ends: the last event's timestamp and messageId. */
export interface TimelineCursor {
  timestamp: number;
  messageId: string;
}

export const encodeCursor = (c: TimelineCursor): string =>
  Buffer.from(JSON.stringify([c.timestamp, c.messageId]), 'utf8').toString('base64url');

/** The cursor in a `cursor` query parameter, or null when it is not one this service issued. */
export function decodeCursor(text: string): TimelineCursor | null {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (!Array.isArray(parsed) || parsed.length !== 2) return null;
    const [timestamp, messageId] = parsed as unknown[];
    if (typeof timestamp !== 'number' || !Number.isFinite(timestamp) || typeof messageId !== 'string') return null;
    return { timestamp, messageId };
  } catch {
    return null;
  }
}
