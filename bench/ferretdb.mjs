/**
 * Write rates of the database alone (`npm run bench:ferretdb`), to tune the local FerretDB: bulk
 * upserts that insert, bulk updates of existing documents by `_id`, single-update commands, bulk
 * inserts, bulk inserts with some duplicate keys (claims), and bulk updates and inserts at once,
 * each for `--seconds` (default 6) over `--reps` (default 3) repetitions, medians.
 * Writes to a scratch database `bench_ferretdb` (dropped at the end) on MONGO_URL.
 */
import { MongoClient } from 'mongodb';
import { parseArgs } from './lib/args.mjs';

const { num } = parseArgs(process.argv.slice(2));
const seconds = num('seconds', 6, 3);
const reps = num('reps', 3, 1);
const mongoUrl = process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017';
const PROFILES = 20_000;

const traits = { email: 'ann@example.com', firstName: 'Ann', lastName: 'Lee', country: 'DE', city: 'Berlin', plan: 'pro', age: 33 };
const context = {
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)',
  library: { name: 'analytics.js', version: '4.1.0' },
  page: { path: '/pricing', url: 'https://example.com/pricing' },
};
const update = { $set: { traits, lastEvent: context, updatedAt: new Date() }, $inc: { version: 1 } };

/** `concurrency` loops of `batch`-sized writes for `seconds`; statements per second. */
async function rate(write, { batch, concurrency }) {
  let n = 0;
  let done = 0;
  const end = Date.now() + seconds * 1000;
  const loop = async () => {
    while (Date.now() < end) {
      const first = n;
      n += batch;
      await write(first, batch);
      done += batch;
    }
  };
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, loop));
  return done / (Number(process.hrtime.bigint() - t0) / 1e9);
}

const upserts = (coll, offset) => (first, batch) =>
  coll.bulkWrite(
    Array.from({ length: batch }, (_, i) => ({
      updateOne: { filter: { _id: `p_${(offset + first + i) % PROFILES}` }, update, upsert: true },
    })),
    { ordered: false },
  );

/** New documents with ids under `prefix`. */
const inserts = (coll, prefix) => (first, batch) =>
  coll.insertMany(
    Array.from({ length: batch }, (_, i) => ({ _id: `${prefix}_${first + i}`, traits, context })),
    { ordered: false },
  );

/** Claims: new documents, every tenth under the `_id` of a stored one (a duplicate key, as a claim someone made first). */
const claims = (coll, prefix) => (first, batch) =>
  coll
    .insertMany(
      Array.from({ length: batch }, (_, i) => ({
        _id: (first + i) % 10 === 0 ? `p_${(first + i) % PROFILES}` : `${prefix}_${first + i}`,
        traits,
        context,
      })),
      { ordered: false },
    )
    .catch((e) => {
      if (!e.writeErrors?.every((w) => w.code === 11000)) throw e;
    });

const cases = {
  'bulk upserts that insert (100 per command, 2 in flight)': (coll, rep) =>
    rate(upserts(coll, rep * PROFILES), { batch: 100, concurrency: 2 }),
  'bulk updates by _id (100 per command, 2 in flight)': (coll) => rate(upserts(coll, 0), { batch: 100, concurrency: 2 }),
  'single updates by _id (1 per command, 8 in flight)': (coll) => rate(upserts(coll, 0), { batch: 1, concurrency: 8 }),
  'bulk inserts (100 per command, 2 in flight)': (coll, rep) => rate(inserts(coll, `e_${rep}`), { batch: 100, concurrency: 2 }),
  'claims: bulk inserts, 1 in 10 a duplicate key (100 per command, 2 in flight)': (coll, rep) =>
    rate(claims(coll, `c_${rep}`), { batch: 100, concurrency: 2 }),
  // The pipeline's shape: inserts (timelines, claims) and updates (profiles) from several services at once.
  'bulk updates and bulk inserts at once (100 per command, 1 of each in flight)': async (coll, rep) => {
    const rates = await Promise.all([
      rate(upserts(coll, 0), { batch: 100, concurrency: 1 }),
      rate(inserts(coll, `m_${rep}`), { batch: 100, concurrency: 1 }),
    ]);
    return rates[0] + rates[1];
  },
};

const client = await new MongoClient(mongoUrl).connect();
const db = client.db('bench_ferretdb');
await db.dropDatabase();
const coll = db.collection('writes');
// The update cases need the documents to exist: fill them once.
for (let first = 0; first < PROFILES; first += 500) await upserts(coll, 0)(first, 500);

const rows = [];
for (const [name, run] of Object.entries(cases)) {
  const rates = [];
  for (let rep = 1; rep <= reps; rep++) rates.push(await run(coll, rep));
  rates.sort((a, b) => a - b);
  rows.push({ case: name, statementsPerSec: Math.round(rates[Math.floor(rates.length / 2)]), runs: rates.map(Math.round) });
  console.log(`${name}: median ${rows.at(-1).statementsPerSec}/s (${rows.at(-1).runs.join(', ')})`);
}
await db.dropDatabase();
await client.close();
