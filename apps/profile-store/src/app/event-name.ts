/**
 * The name segments count an event by: a track call's event; a page or screen call as Segment's
 * destinations name it (`Viewed Pricing Page`, `Viewed Home Screen`; without a name `Loaded a
 * Page` / `Loaded a Screen`), so `event('Viewed Pricing Page')` reads page views, and a computed
 * trait's `event` names them the same way. Others: none.
 */
export function eventNameOf(e: { type: string; event: string | null; name?: string | null }): string | null {
  if (e.type === 'track') return e.event;
  if (e.type !== 'page' && e.type !== 'screen') return null;
  const kind = e.type === 'page' ? 'Page' : 'Screen';
  const name = e.name?.trim();
  return name ? `Viewed ${name} ${kind}` : `Loaded a ${kind}`;
}
