import { eventsRead, type Condition } from '@cdp/segment-language';
import { ORDER_EVENT } from '../predictions/order-histories';

/**
 * What a definition about to be stored counts without history: event names no stored segment of
 * the workspace reads (nor the predictions, which keep every order). The segmenter keeps the
 * events of names some segment reads, from when one first does, so such a segment's backfill
 * finds none of the name's earlier events; saying so beats a silent "entered 0".
 */
export function historyWarnings(definition: Condition, stored: readonly { definition: Condition }[]): string[] {
  const kept = new Set([ORDER_EVENT, ...stored.flatMap((s) => eventsRead(s.definition))]);
  return eventsRead(definition)
    .filter((name) => !kept.has(name))
    .map(
      (name) =>
        `event(${JSON.stringify(name)}) is counted from now on: no segment counted it before, so earlier ${JSON.stringify(name)} events ` +
        "are not in this backfill (they are in the profile-store's timeline; a computed trait over the event replays it)",
    );
}
