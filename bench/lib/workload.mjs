import { randomUUID } from 'node:crypto';

/** Deterministic PRNG (mulberry32) so two runs with the same seed send the same journeys. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COUNTRIES = [
  ['DE', 0.25, '+49 151 ', 8],
  ['FR', 0.2, '+33 6 ', 8],
  ['US', 0.25, '+1 415 ', 7],
  ['GB', 0.15, '+44 7700 ', 6],
  ['ES', 0.15, '+34 6', 8],
];
const PRODUCTS = Array.from({ length: 200 }, (_, i) => ({
  product_id: `sku-${1000 + i}`,
  name: `Product ${i}`,
  category: ['shoes', 'shirts', 'bags', 'watches', 'hats'][i % 5],
  price: Math.round((9.9 + ((i * 37) % 250)) * 100) / 100,
}));
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
];

/**
 * Realistic customer journeys, interleaved: each person has 1-3 devices that browse anonymously
 * (page, Product Viewed), then logs in (identify with userId, email, phone, country) on each,
 * completes an order; some people also appear as CRM rows (anonymous source id, same email in
 * another spelling), some send group calls. Messages are Segment messages as SDKs send them.
 */
export class Workload {
  constructor({ runId, seed = 42, active = 100, crmShare = 0.2, groupShare = 0.1 }) {
    this.runId = runId;
    this.random = rng(seed);
    this.crmShare = crmShare;
    this.groupShare = groupShare;
    this.people = 0;
    this.events = 0;
    this.mix = {};
    this.journeys = Array.from({ length: active }, () => this.journey());
  }

  pick(list) {
    return list[Math.floor(this.random() * list.length)];
  }

  country() {
    let r = this.random();
    for (const c of COUNTRIES) {
      if ((r -= c[1]) <= 0) return c;
    }
    return COUNTRIES[0];
  }

  digits(n) {
    let s = '';
    for (let i = 0; i < n; i++) s += Math.floor(this.random() * 10);
    return s;
  }

  /** The events of one person, in the order the person produces them. */
  journey() {
    const i = this.people++;
    const [country, , prefix, len] = this.country();
    const userId = `u-${this.runId}-${i}`;
    const email = `person${i}.${this.runId}@example.com`;
    const phone = prefix + this.digits(len);
    const devices = Array.from({ length: 1 + Math.floor(this.random() * 3) }, (_, k) => ({
      anonymousId: `a-${this.runId}-${i}-${k}`,
      userAgent: this.pick(AGENTS),
    }));
    const events = [];
    for (const d of devices) {
      const ctx = { userAgent: d.userAgent, locale: 'en-US', library: { name: 'analytics.js', version: '5.2.0' } };
      events.push(this.page(d.anonymousId, undefined, 'Home', ctx));
      for (let v = 0, n = 1 + Math.floor(this.random() * 3); v < n; v++) {
        const p = this.pick(PRODUCTS);
        events.push({
          type: 'track',
          anonymousId: d.anonymousId,
          event: 'Product Viewed',
          properties: { ...p, currency: 'EUR' },
          context: ctx,
        });
        events.push(this.page(d.anonymousId, undefined, p.name, ctx));
      }
    }
    devices.forEach((d, k) => {
      const context = { userAgent: d.userAgent, library: { name: 'analytics.js', version: '5.2.0' } };
      // First login carries the traits; later devices only say who they are (and link their anonymous history).
      const traits =
        k === 0
          ? {
              email: i % 3 ? email : ` ${email.replace(/^p/, 'P')} `,
              phone,
              country,
              firstName: `First${i}`,
              plan: this.pick(['free', 'pro', 'team']),
            }
          : {};
      events.push({ type: 'identify', userId, anonymousId: d.anonymousId, traits, context });
    });
    const items = Array.from({ length: 1 + Math.floor(this.random() * 3) }, () => ({
      ...this.pick(PRODUCTS),
      quantity: 1 + Math.floor(this.random() * 2),
    }));
    const total = Math.round(items.reduce((s, p) => s + p.price * p.quantity, 0) * 100) / 100;
    events.push({
      type: 'track',
      userId,
      anonymousId: devices[0].anonymousId,
      event: 'Order Completed',
      properties: { order_id: `o-${this.runId}-${i}`, total, revenue: total, currency: 'EUR', products: items },
      context: { userAgent: devices[0].userAgent },
    });
    if (this.random() < this.groupShare) {
      const g = Math.floor(this.random() * 50);
      events.push({
        type: 'group',
        userId,
        groupId: `g-${this.runId}-${g}`,
        traits: { name: `Company ${g}`, industry: 'retail', employees: 10 + g },
      });
    }
    if (this.random() < this.crmShare) {
      // A CRM export row: another source's id, the same person's email spelled differently.
      events.push({
        type: 'identify',
        anonymousId: `crm-${this.runId}-${i}`,
        traits: { email: email.toUpperCase(), phone, lifetimeValue: total * 3, crmSegment: this.pick(['A', 'B', 'C']) },
        context: { library: { name: 'crm-sync', version: '1.0.0' } },
      });
    }
    return events;
  }

  page(anonymousId, userId, name, context) {
    const path = `/${name.toLowerCase().replace(/\s+/g, '-')}`;
    return {
      type: 'page',
      anonymousId,
      ...(userId ? { userId } : {}),
      name,
      properties: { path, url: `https://shop.example.com${path}`, title: `${name} | Shop`, referrer: 'https://www.google.com/' },
      context,
    };
  }

  /** The next event of a random person in progress; finished people are replaced by new ones. */
  next() {
    const j = Math.floor(this.random() * this.journeys.length);
    let events = this.journeys[j];
    if (events.length === 0) events = this.journeys[j] = this.journey();
    const e = events.shift();
    const now = new Date().toISOString();
    this.events++;
    const kind = e.type === 'track' ? e.event : e.type;
    this.mix[kind] = (this.mix[kind] ?? 0) + 1;
    return { ...e, messageId: randomUUID(), timestamp: now, sentAt: now };
  }

  batch(size) {
    return Array.from({ length: size }, () => this.next());
  }
}
