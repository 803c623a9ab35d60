// `npm run bench:segments [-- --quick] [--profiles=N] [--reps=N]`: evaluation speed of compiled
// segment definitions (issue #7's target: 200,000 evaluations/s per core), against the readable
// interpreter and against hand-written predicates of the same conditions measured in the same run,
// plus how many definitions the dependency index re-evaluates per kind of profile change.
// Writes bench/results/segments-latest.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  compileDefinition,
  evaluate,
  parseSegment,
  type CompiledDefinition,
  type EvaluationContext,
  type ProfileEvent,
} from '@cdp/segment-language';

const argv = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string | undefined]));
const quick = argv.has('quick');
const cfg = {
  profiles: Number(argv.get('profiles') ?? 10_000),
  reps: Number(argv.get('reps') ?? (quick ? 3 : 5)),
  slotMs: quick ? 300 : 800,
};
const NOW = Date.UTC(2026, 10, 30);
const DAY = 86_400_000;

/** A realistic mix: trait-only audiences, consent, a regex, event counts in windows, segment membership. */
const DEFINITIONS: Record<string, string> = {
  country: "trait('country') = 'DE'",
  plan_adult: "trait('plan') in ['pro', 'team'] and trait('age') >= 18",
  email_domain: "trait('email') matches '@example[.](com|org)$' flags 'i'",
  consent: "consent('marketing') and trait('country') != 'US'",
  big_buyers: "event('Order Completed').where(property('total') > 100).within(30 days).count() >= 2",
  lapsed: "event('Product Viewed').between(60 days ago, 30 days ago) and not event('Order Completed').within(30 days)",
  valuable: "(trait('ltv') > 500 or trait('plan') = 'team') and not segment('churned')",
  active_de: "trait('country') = 'DE' and event('Page Viewed').within(7 days).count() >= 3",
};

/** Hand-written predicates for the trait-only definitions: what compiled closures could at best reach. */
const HAND_WRITTEN: Partial<Record<string, (c: EvaluationContext) => boolean>> = {
  country: (c) => c.traits['country'] === 'DE',
  plan_adult: (c) =>
    (c.traits['plan'] === 'pro' || c.traits['plan'] === 'team') && typeof c.traits['age'] === 'number' && c.traits['age'] >= 18,
  valuable: (c) =>
    ((typeof c.traits['ltv'] === 'number' && c.traits['ltv'] > 500) || c.traits['plan'] === 'team') && !c.memberships?.has('churned'),
};

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function profiles(n: number): EvaluationContext[] {
  const r = rng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const names = ['Page Viewed', 'Page Viewed', 'Product Viewed', 'Order Completed', 'Signed Up'];
  return Array.from({ length: n }, (_, i) => {
    const events: ProfileEvent[] = Array.from({ length: Math.floor(r() * 30) }, () => ({
      name: pick(names),
      timestamp: NOW - Math.floor(r() * 90 * DAY),
      properties: { total: Math.round(r() * 300), currency: 'EUR' },
    }));
    return {
      traits: {
        country: pick(['DE', 'FR', 'US', 'GB', 'DE']),
        plan: pick(['free', 'pro', 'team']),
        age: 16 + Math.floor(r() * 60),
        email: `person${i}@${pick(['example.com', 'Example.org', 'mail.test'])}`,
        ltv: Math.round(r() * 1000),
        consent: { categoryPreferences: { marketing: r() < 0.6, analytics: true } },
      },
      events,
      memberships: new Set(r() < 0.1 ? ['churned'] : []),
      now: NOW,
    };
  });
}

/** Evaluations per CPU second of `test` over the profiles, for about `slotMs`. */
function rate(test: (c: EvaluationContext) => boolean, people: EvaluationContext[]): number {
  let evaluations = 0;
  let matched = 0;
  const cpu0 = process.cpuUsage();
  const until = performance.now() + cfg.slotMs;
  while (performance.now() < until) {
    for (const p of people) if (test(p)) matched++;
    evaluations += people.length;
  }
  const cpu = process.cpuUsage(cpu0);
  if (matched < 0) throw new Error('unreachable: keeps the loop from being optimized away');
  return evaluations / ((cpu.user + cpu.system) / 1e6);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function main(): void {
  const t0 = Date.now();
  const people = profiles(cfg.profiles);
  const compiled: Record<string, CompiledDefinition> = {};
  for (const [id, text] of Object.entries(DEFINITIONS)) {
    const parsed = parseSegment(text);
    if (!parsed.ok) throw new Error(`${id}: ${parsed.error.message}`);
    compiled[id] = compileDefinition(parsed.definition);
  }
  const all = Object.values(compiled);
  const mix = (c: EvaluationContext): boolean => {
    let any = false;
    for (const d of all) any = d.matches(c) || any;
    return any;
  };
  const rows = Object.keys(DEFINITIONS).map((id) => {
    const d = compiled[id] as CompiledDefinition;
    const hand = HAND_WRITTEN[id];
    const reps = Array.from({ length: cfg.reps }, () => ({
      compiled: rate(d.matches, people),
      interpreted: rate((c) => evaluate(d.definition, c), people),
      hand: hand ? rate(hand, people) : undefined,
    }));
    const members = people.filter(d.matches).length;
    return {
      id,
      text: DEFINITIONS[id],
      members,
      compiledPerCoreSec: median(reps.map((x) => x.compiled)),
      interpretedPerCoreSec: median(reps.map((x) => x.interpreted)),
      handWrittenPerCoreSec: hand ? median(reps.map((x) => x.hand as number)) : null,
    };
  });
  const mixRate = median(Array.from({ length: cfg.reps }, () => rate(mix, people))) * all.length;
  const changes = {
    'identify (email, plan)': all.filter((d) => d.readsAny(['email', 'plan'])).length,
    'trait ltv': all.filter((d) => d.readsAny(['ltv'])).length,
    'track Order Completed': all.filter((d) => d.events.has('Order Completed')).length,
    'track Signed Up': all.filter((d) => d.events.has('Signed Up')).length,
  };
  const result = {
    startedAt: new Date(t0).toISOString(),
    config: cfg,
    target: 200_000,
    mixPerCoreSec: mixRate,
    definitions: rows,
    reevaluatedPerChange: { of: all.length, ...changes },
  };
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'segments-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(dir, 'segments-latest.md'), markdown(result));
  console.log(markdown(result));
}

const k = (n: number | null): string => (n === null ? '-' : `${Math.round(n / 1000).toLocaleString('en')}k`);

function markdown(r: {
  startedAt: string;
  config: typeof cfg;
  target: number;
  mixPerCoreSec: number;
  definitions: {
    id: string;
    text?: string;
    members: number;
    compiledPerCoreSec: number;
    interpretedPerCoreSec: number;
    handWrittenPerCoreSec: number | null;
  }[];
  reevaluatedPerChange: Record<string, number>;
}): string {
  const rows = r.definitions.map(
    (d) =>
      `| ${d.id} | \`${(d.text ?? '').replaceAll('|', '\\|')}\` | ${d.members} | ${k(d.compiledPerCoreSec)} | ${k(d.interpretedPerCoreSec)} | ${k(d.handWrittenPerCoreSec)} | ${
        d.handWrittenPerCoreSec ? (d.compiledPerCoreSec / d.handWrittenPerCoreSec).toFixed(2) : '-'
      } |`,
  );
  const { of, ...changes } = r.reevaluatedPerChange;
  return `# Segment evaluation (${r.startedAt})

${r.config.profiles.toLocaleString('en')} generated profiles (0 to 30 events each over 90 days), one core, medians of ${r.config.reps} runs;
evaluations per CPU second (\`npm run bench:segments\`).

| definition | text | members | compiled/s | interpreted/s | hand-written/s | compiled / hand-written |
|---|---|---|---|---|---|---|
${rows.join('\n')}

All ${r.definitions.length} definitions on every profile: **${k(r.mixPerCoreSec)} evaluations/s per core** (target ${k(r.target)}).

Definitions re-evaluated per profile change (dependency index), of ${of}: ${Object.entries(changes)
    .map(([c, n]) => `${c}: ${n}`)
    .join('; ')}.
`;
}

main();
