/** Documents of profile x segment pairs (memberships, schedule entries), by profile id then segment id. */
export function byProfileAndSegment<D extends { profileId: string; segmentId: string }>(docs: readonly D[]): Map<string, Map<string, D>> {
  const out = new Map<string, Map<string, D>>();
  for (const d of docs) {
    const bySegment = out.get(d.profileId) ?? new Map<string, D>();
    bySegment.set(d.segmentId, d);
    out.set(d.profileId, bySegment);
  }
  return out;
}
