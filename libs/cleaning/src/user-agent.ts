import { isbot } from 'isbot';
import { UAParser } from 'ua-parser-js';
import type { JsonObject, JsonValue } from './safe-json';

const isObject = (v: JsonValue | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Copies the fields that have a value (the parser answers undefined for what it cannot tell);
 * frozen, as the memo hands the same object to every event with that user agent.
 */
const defined = (fields: Record<string, string | undefined>): JsonObject => {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(fields)) if (v) out[k] = v;
  return Object.freeze(out);
};

/** User agents longer than this are not parsed (a real one is a few hundred characters). */
const MAX_USER_AGENT = 1_000;

interface Parsed {
  found: Record<string, JsonObject>;
  bot: boolean;
}

/** Parsing costs ~150 us and a few user agents make most traffic: a bounded memo (pure: same input, same answer). */
const memo = new Map<string, Parsed>();
const MEMO_SIZE = 1_000;

function parse(ua: string): Parsed {
  const hit = memo.get(ua);
  if (hit) return hit;
  const r = new UAParser(ua).getResult();
  const parsed: Parsed = {
    found: {
      device: defined({ type: r.device.type, manufacturer: r.device.vendor, model: r.device.model }),
      os: defined({ name: r.os.name, version: r.os.version }),
      browser: defined({ name: r.browser.name, version: r.browser.version }),
    },
    bot: isbot(ua),
  };
  if (memo.size >= MEMO_SIZE) memo.clear();
  memo.set(ua, parsed);
  return parsed;
}

/**
 * Adds what the user agent tells to a Segment context: `device` {type, manufacturer, model},
 * `os` {name, version}, `browser` {name, version}, and `bot: true` for known crawlers. What the
 * sender set already (mobile SDKs know their device better) wins. Idempotent.
 */
export function enrichFromUserAgent(context: JsonObject): JsonObject {
  const ua = context['userAgent'];
  if (typeof ua !== 'string' || ua.trim() === '' || ua.length > MAX_USER_AGENT) return context;
  const { found, bot } = parse(ua);
  const out: JsonObject = { ...context };
  for (const [key, fields] of Object.entries(found)) {
    if (Object.keys(fields).length === 0) continue;
    const sent = out[key];
    // Shared with the memo, not copied (it is frozen: no event can change it for the others).
    if (sent === undefined) out[key] = fields;
    else if (isObject(sent)) out[key] = { ...fields, ...sent };
  }
  if (bot) out['bot'] = true;
  return out;
}
