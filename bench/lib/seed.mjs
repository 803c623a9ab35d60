import { createHash, randomUUID } from 'node:crypto';
import { BSON, MongoClient } from 'mongodb';

/**
 * Pre-seeds a bench database with N existing people, stored as the services store them (read
 * from the repositories): identities + identity_profiles (identity-resolver), profiles and
 * profile_identifiers (profile-store), segment_profiles and, optionally, segment_memberships (segmenter). Every
 * document has the deterministic `_id` of libs/mongo's keyId. Identifiers carry the `seed`
 * prefixes (`su-`, `sa-`, `seed<i>.`), which the workload never uses, so no seeded person is
 * touched by the load: the store is just that much bigger.
 */

const hex24 = (parts) => createHash('sha256').update(JSON.stringify(parts), 'utf8').digest('hex').slice(0, 24);
/** libs/mongo WorkspaceRepository.keyId. */
export const keyId = (...parts) => parts.map((p) => encodeURIComponent(String(p))).join(':');
/** libs/identity-graph profileIdFor / identifierDigest. */
export const profileIdFor = (ws, id) => `p_${hex24([ws, id.type, id.value])}`;
const identifierDigest = (id) => hex24([id.type, id.value]);

const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'ES'];
const EVENT_COUNTS = { page: 4, 'Product Viewed': 2, identify: 1, 'Order Completed': 1 };

/** The identifiers of seeded person i (stable per tag). */
export function seededPerson(tag, i) {
  const identifiers = [
    { type: 'anonymous_id', value: `sa-${tag}-${i}` },
    { type: 'email', value: `seed${i}.${tag}@example.com` },
    { type: 'phone', value: `+49 151 ${String(10_000_000 + i).slice(-8)}` },
    { type: 'user_id', value: `su-${tag}-${i}` },
  ];
  // The first event of a person is anonymous: that identifier created the profile.
  return { identifiers, country: COUNTRIES[i % COUNTRIES.length] };
}

function documents(ws, tag, i, now, segments) {
  const { identifiers, country } = seededPerson(tag, i);
  const profileId = profileIdFor(ws, identifiers[0]);
  const created = now - 86_400_000 * (1 + (i % 365));
  const messageIds = Array.from({ length: 8 }, () => randomUUID());
  const traitValues = { email: identifiers[1].value, phone: identifiers[2].value, country, firstName: `Seed${i}`, plan: 'pro' };
  const traits = Object.fromEntries(
    Object.entries(traitValues).map(([k, value]) => [k, { value, updatedAt: created, source: 'analytics.js', messageId: messageIds[6] }]),
  );
  const identities = identifiers.map((id) => ({
    _id: keyId(ws, id.type, id.value),
    type: id.type,
    value: id.value,
    profileId,
    createdAt: new Date(created),
    workspaceId: ws,
  }));
  const identityProfile = {
    _id: keyId(ws, profileId),
    profileId,
    createdAt: new Date(created),
    mergedInto: null,
    merge: null,
    counts: Object.fromEntries(identifiers.map((id) => [id.type, 1])),
    counted: identifiers.map(identifierDigest),
    absorbed: [],
    workspaceId: ws,
  };
  const version = messageIds.length;
  const profile = {
    _id: keyId(ws, profileId),
    profileId,
    traits,
    identifiers: identifiers.map((id) => ({ ...id, firstSeen: created, lastSeen: created + 600_000 })),
    idKeys: identifiers.map((id) => `${id.type}:${id.value}`),
    stats: { firstSeen: created, lastSeen: created + 600_000, eventCount: 8, eventCounts: EVENT_COUNTS, revenueMicros: 129_800_000 },
    version,
    createdAt: created,
    updatedAt: created + 600_000,
    appliedMessageIds: messageIds,
    mergedInto: null,
    absorbedProfileIds: [],
    workspaceId: ws,
  };
  const segmentProfile = {
    _id: keyId(ws, profileId),
    profileId,
    version,
    traits: JSON.stringify(traitValues),
    deleted: false,
    changedAt: created + 600_000,
    workspaceId: ws,
  };
  // Segments the person is in (the bench's: country, email exists, not sanctioned), as entered transitions.
  const memberships = segments
    .filter((s) => s.matches(traitValues))
    .map((s) => {
      const t = {
        change: 'entered',
        membershipVersion: 1,
        profileVersion: version,
        asOf: created,
        occurredAt: created,
        receivedAt: created,
      };
      return {
        _id: keyId(ws, s.segmentId, profileId),
        segmentId: s.segmentId,
        profileId,
        member: true,
        membershipVersion: 1,
        lastProfileVersion: version,
        lastAsOf: created,
        lastTransition: t,
        updatedAt: new Date(created),
        workspaceId: ws,
      };
    });
  const profileIdentifiers = profile.idKeys.map((idKey) => ({ _id: keyId(ws, idKey), idKey, profileId, workspaceId: ws }));
  return { profileId, identities, identityProfile, profile, profileIdentifiers, segmentProfile, memberships };
}

/**
 * Inserts `n` people, `batch` at a time: per collection insertMany (unordered) of at most `batch`
 * documents, all collections in parallel. `segments` ([{segmentId, matches(traits)}]) adds memberships;
 * `only` (collection names) seeds just those, e.g. one service's.
 * Returns the rate and a sample person for a read-back check.
 */
export async function seedStore({ mongoUrl, workspaceId, n, tag, batch = 1000, segments = [], only, log = () => undefined }) {
  const client = await new MongoClient(mongoUrl).connect();
  const db = client.db();
  const counts = { identities: 0, identity_profiles: 0, profiles: 0, profile_identifiers: 0, segment_profiles: 0, segment_memberships: 0 };
  const started = Date.now();
  let lastLog = started;
  const now = Date.now();
  try {
    for (let from = 0; from < n; from += batch) {
      const docs = Array.from({ length: Math.min(batch, n - from) }, (_, k) => documents(workspaceId, tag, from + k, now, segments));
      const groups = {
        identities: docs.flatMap((d) => d.identities),
        identity_profiles: docs.map((d) => d.identityProfile),
        profiles: docs.map((d) => d.profile),
        profile_identifiers: docs.flatMap((d) => d.profileIdentifiers),
        segment_profiles: docs.map((d) => d.segmentProfile),
        segment_memberships: docs.flatMap((d) => d.memberships),
      };
      // The server takes inserts into different collections in parallel far faster than one after another.
      const writes = [];
      for (const [name, list] of Object.entries(groups).filter(([name]) => !only || only.includes(name)))
        for (let k = 0; k < list.length; k += batch) writes.push([name, list.slice(k, k + batch)]);
      await Promise.all(
        writes.map(async ([name, list]) => {
          await db.collection(name).insertMany(list, { ordered: false });
          counts[name] += list.length;
        }),
      );
      if (Date.now() - lastLog > 15_000) {
        lastLog = Date.now();
        const s = (Date.now() - started) / 1000;
        log(`seeding: ${from + docs.length} of ${n} people in ${s.toFixed(0)} s (${((from + docs.length) / s).toFixed(0)} people/s)`);
      }
    }
  } finally {
    await client.close();
  }
  const seconds = (Date.now() - started) / 1000;
  const documentsTotal = Object.values(counts).reduce((a, b) => a + b, 0);
  const sample = n > 0 ? documents(workspaceId, tag, n - 1, now, []) : undefined;
  return {
    people: n,
    seconds,
    peoplePerSec: n / Math.max(seconds, 0.001),
    documents: counts,
    documentsPerSec: documentsTotal / Math.max(seconds, 0.001),
    sample: sample && { profileId: sample.profileId, email: seededPerson(tag, n - 1).identifiers[1].value },
  };
}

/**
 * The `_id`s of documents the workload wrote (not seeded) in the seeded collections: its person i
 * starts anonymously on device 0, so that identifier created the profile (profileIdFor).
 */
export function workloadIds({ workspaceId: ws, runId, people, segmentIds = [], limit = 300 }) {
  const n = Math.min(people, limit);
  const anon = Array.from({ length: n }, (_, i) => ({ type: 'anonymous_id', value: `a-${runId}-${i}-0` }));
  const profileIds = anon.map((id) => profileIdFor(ws, id));
  const byProfile = profileIds.map((p) => keyId(ws, p));
  return {
    identities: anon.flatMap((id, i) => [keyId(ws, id.type, id.value), keyId(ws, 'user_id', `u-${runId}-${i}`)]),
    identity_profiles: byProfile,
    profiles: byProfile,
    profile_identifiers: anon.map((id) => keyId(ws, `${id.type}:${id.value}`)),
    segment_profiles: byProfile,
    segment_memberships: segmentIds.flatMap((s) =>
      profileIds.slice(0, Math.ceil(n / Math.max(1, segmentIds.length))).map((p) => keyId(ws, s, p)),
    ),
  };
}

/**
 * Per collection of the run's database: document count and sizes from collStats (when the server
 * gives them), and the average BSON size of documents the workload wrote: read by `_id` where
 * `ids[collection]` names them (collections that are also seeded), else the first documents.
 */
export async function storageStats({ mongoUrl, ids = {}, sampleSize = 300 }) {
  const client = await new MongoClient(mongoUrl).connect();
  const db = client.db();
  const out = {};
  try {
    for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
      const stats = await db.command({ collStats: name }).catch(() => undefined);
      const filter = ids[name] ? { _id: { $in: ids[name] } } : {};
      const docs = await db.collection(name).find(filter).limit(sampleSize).toArray();
      const sizes = docs.map((d) => BSON.calculateObjectSize(d));
      out[name] = {
        count: stats?.count ?? null,
        avgObjSize: stats?.avgObjSize ?? null,
        size: stats?.size ?? null,
        storageSize: stats?.storageSize ?? null,
        totalIndexSize: stats?.totalIndexSize ?? null,
        nindexes: stats?.nindexes ?? null,
        sampled: docs.length,
        avgBsonBytes: sizes.length ? Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length) : null,
      };
    }
  } finally {
    await client.close();
  }
  return out;
}
