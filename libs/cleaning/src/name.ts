/** A person's name or other display text: Unicode NFC, whitespace runs collapsed to one space, trimmed. */
export function cleanName(raw: string): string {
  return raw.normalize('NFC').replace(/\s+/gu, ' ').trim().normalize('NFC');
}
