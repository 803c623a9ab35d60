import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { MongoClient } from 'mongodb';
import { TOPICS } from '../../bench/lib/sampler.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Every consumer group of the pipeline and what it reads (group `<namespace>cdp.<service>`). */
export const GROUP_INPUTS = {
  normalizer: ['raw'],
  'identity-resolver': ['normalized', 'profileChanges'],
  'profile-store': ['resolved', 'merges', 'removals', 'segmentChanges'],
  segmenter: ['profileChanges'],
};

/** Lag per group: end offsets minus committed offsets over all its input partitions (no commit counts as 0). */
export async function groupLags(admin, ns) {
  const out = {};
  await Promise.all(
    Object.entries(GROUP_INPUTS).map(async ([service, inputs]) => {
      const topics = inputs.map((i) => ns + TOPICS[i]);
      const [committed, ends] = await Promise.all([
        admin.fetchOffsets({ groupId: `${ns}cdp.${service}`, topics }),
        Promise.all(topics.map((t) => admin.fetchTopicOffsets(t))),
      ]);
      const end = ends.flat().reduce((s, p) => s + Number(p.high), 0);
      const done = committed.reduce((s, tp) => s + tp.partitions.reduce((a, p) => a + Math.max(0, Number(p.offset)), 0), 0);
      out[service] = end - done;
    }),
  );
  return out;
}

/**
 * Waits until every group is at the end offsets of its inputs, three polls in a row (a stage that
 * just caught up may still produce into the next one). A group still behind at the deadline is stuck.
 */
export async function waitForDrain({ admin, ns, timeoutMs, log }) {
  const started = Date.now();
  let zeroPolls = 0;
  let lags = {};
  let lastLog = 0;
  while (Date.now() - started < timeoutMs) {
    lags = await groupLags(admin, ns).catch(() => lags);
    const total = Object.values(lags).reduce((a, b) => a + b, 0);
    zeroPolls = total === 0 ? zeroPolls + 1 : 0;
    if (zeroPolls >= 3) return { drained: true, drainMs: Date.now() - started, lags, stuck: [] };
    if (Date.now() - lastLog > 10_000) {
      log(`draining: lag ${JSON.stringify(lags)}`);
      lastLog = Date.now();
    }
    await sleep(1000);
  }
  return { drained: false, drainMs: Date.now() - started, lags, stuck: Object.keys(lags).filter((g) => lags[g] > 0) };
}

/** Every record of a topic, decoded (null values kept as null), through a throwaway consumer group. */
export async function readTopic({ kafka, admin, registry, topic, timeoutMs = 120_000 }) {
  const end = (await admin.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.high), 0);
  const out = [];
  if (end === 0) return out;
  const consumer = kafka.consumer({ groupId: `${topic}.chaos-reader.${Date.now()}`, maxWaitTimeInMs: 100, maxBytes: 8 << 20 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        out.push({ partition: batch.partition, offset: m.offset, value: m.value ? await registry.decode(m.value) : null });
        seen++;
      }
    },
  });
  const deadline = Date.now() + timeoutMs;
  while (seen < end && Date.now() < deadline) await sleep(100);
  await consumer.disconnect();
  if (seen < end) throw new Error(`read ${seen} of ${end} records of ${topic}`);
  return out;
}

/**
 * Segment transitions per (segment, profile): repeats share segment, profile and membershipVersion
 * and must be identical; versions run 1..n without gaps; odd versions enter, even ones exit. The last
 * transition must be the segmenter's stored membership (every transition reached the topic).
 */
export function checkSegmentChanges(records, memberships, profileSegments) {
  const pairs = new Map();
  let repeats = 0;
  const problems = [];
  for (const { value: v } of records) {
    if (!v) continue;
    const key = `${v.segmentId} ${v.profileId}`;
    let byVersion = pairs.get(key);
    if (!byVersion) pairs.set(key, (byVersion = new Map()));
    const prev = byVersion.get(v.membershipVersion);
    if (prev) {
      repeats++;
      if (prev.change !== v.change) problems.push(`${key} v${v.membershipVersion}: repeated as ${prev.change} and ${v.change}`);
    } else byVersion.set(v.membershipVersion, v);
  }
  for (const [key, byVersion] of pairs) {
    const versions = [...byVersion.keys()].sort((a, b) => a - b);
    versions.forEach((ver, i) => {
      if (ver !== i + 1) problems.push(`${key}: versions ${versions.join(',')} have a gap`);
      const want = ver % 2 === 1 ? 'entered' : 'exited';
      if (byVersion.get(ver).change !== want)
        problems.push(`${key} v${ver}: ${byVersion.get(ver).change}, expected ${want} (no alternation)`);
    });
  }
  // The stored end states: the segmenter's memberships (the writer) and the profile-store's read model (a consumer).
  const compare = (docs, who) => {
    let n = 0;
    for (const m of docs) {
      const key = `${m.segmentId} ${m.profileId}`;
      const byVersion = pairs.get(key);
      const last = byVersion ? Math.max(...byVersion.keys()) : 0;
      const lastMember = last > 0 && byVersion.get(last).change === 'entered';
      if ((m.membershipVersion ?? 0) !== last || Boolean(m.member) !== lastMember) {
        n++;
        if (problems.length < 50)
          problems.push(
            `${key}: ${who} stores membershipVersion ${m.membershipVersion} (member ${m.member}), topic ends at ${last} (member ${lastMember})`,
          );
      }
    }
    return n;
  };
  const membershipMismatches = compare(memberships, 'segmenter');
  const readModelMismatches = compare(profileSegments, 'profile-store');
  const distinct = [...pairs.values()].reduce((s, m) => s + m.size, 0);
  return {
    records: records.length,
    transitions: distinct,
    pairs: pairs.size,
    repeats,
    membershipMismatches,
    readModelMismatches,
    problems: [...new Set(problems)],
  };
}

/** The profile-store's state, read from its database: timeline per messageId, event counts per canonical profile. */
export async function readStore(mongoUrl) {
  const client = await new MongoClient(mongoUrl).connect();
  try {
    const db = client.db();
    const timeline = await db
      .collection('profile_events')
      .find({}, { projection: { _id: 0, messageId: 1, profileId: 1 } })
      .toArray();
    const profiles = await db
      .collection('profiles')
      .find({}, { projection: { _id: 0, profileId: 1, mergedInto: 1, 'stats.eventCount': 1 } })
      .toArray();
    const memberships = await db
      .collection('segment_memberships')
      .find({}, { projection: { _id: 0, segmentId: 1, profileId: 1, member: 1, membershipVersion: 1 } })
      .toArray();
    const profileSegments = await db
      .collection('profile_segments')
      .find({}, { projection: { _id: 0, segmentId: 1, profileId: 1, member: 1, membershipVersion: 1 } })
      .toArray();
    return { timeline, profiles, memberships, profileSegments };
  } finally {
    await client.close();
  }
}

/**
 * Accepted messageIds against the timeline (applied, lost, duplicated per phase), and each canonical
 * profile's event count against the timeline documents of the profiles it absorbed (counted twice or missed).
 */
export function checkProfiles({ accepted, timeline, profiles }) {
  const perMessage = new Map();
  for (const t of timeline) perMessage.set(t.messageId, (perMessage.get(t.messageId) ?? []).concat(t.profileId));
  const phases = {};
  const ph = (p) => (phases[p] ??= { accepted: 0, applied: 0, lost: 0, duplicated: 0, lostIds: [], duplicatedIds: [] });
  for (const [id, phase] of accepted) {
    const s = ph(phase);
    s.accepted++;
    const docs = perMessage.get(id);
    if (!docs) {
      s.lost++;
      if (s.lostIds.length < 10) s.lostIds.push(id);
      continue;
    }
    s.applied++;
    if (docs.length > 1) {
      s.duplicated++;
      if (s.duplicatedIds.length < 10) s.duplicatedIds.push(id);
    }
  }
  const extra = [...perMessage.keys()].filter((id) => !accepted.has(id) && !id.startsWith('probe-'));

  const byId = new Map(profiles.map((p) => [p.profileId, p]));
  const canonical = (id) => {
    const seen = new Set();
    let p = byId.get(id);
    while (p?.mergedInto && !seen.has(p.profileId)) {
      seen.add(p.profileId);
      p = byId.get(p.mergedInto) ?? { profileId: p.mergedInto };
    }
    return p?.profileId ?? id;
  };
  const expected = new Map();
  for (const t of timeline) {
    const c = canonical(t.profileId);
    expected.set(c, (expected.get(c) ?? 0) + 1);
  }
  const mismatches = [];
  let countedTotal = 0;
  for (const p of profiles) {
    if (p.mergedInto) continue;
    const have = p.stats?.eventCount ?? 0;
    countedTotal += have;
    const want = expected.get(p.profileId) ?? 0;
    if (have !== want) mismatches.push({ profileId: p.profileId, eventCount: have, timelineEvents: want });
    expected.delete(p.profileId);
  }
  // Timeline documents whose profile (chain) does not exist at all.
  for (const [profileId, n] of expected) mismatches.push({ profileId, eventCount: null, timelineEvents: n });
  return {
    phases,
    timelineDocs: timeline.length,
    extraApplied: extra.length,
    extraIds: extra.slice(0, 10),
    profiles: profiles.length,
    canonicalProfiles: profiles.filter((p) => !p.mergedInto).length,
    eventCountTotal: countedTotal,
    countMismatches: mismatches.length,
    countExcess: mismatches.reduce((s, m) => s + Math.max(0, (m.eventCount ?? 0) - m.timelineEvents), 0),
    countMissing: mismatches.reduce((s, m) => s + Math.max(0, m.timelineEvents - (m.eventCount ?? 0)), 0),
    mismatchSample: mismatches.slice(0, 10),
    canonical,
    byId,
  };
}

/** The same counts through the documented Profile API, for a sample of people (by user_id). */
export async function checkApi({ url, apiKey, userIds, byId, canonical, sample = 20 }) {
  const ids = [...userIds].slice(0, sample);
  const problems = [];
  let checked = 0;
  for (const userId of ids) {
    const res = await fetch(`${url}/v1/profiles/${encodeURIComponent(`user_id:${userId}`)}`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    if (res.status !== 200) {
      problems.push(`${userId}: ${res.status}`);
      continue;
    }
    const body = await res.json();
    checked++;
    const stored = byId.get(canonical(body.profileId));
    const want = stored?.stats?.eventCount;
    if (body.computedTraits?.event_count !== want)
      problems.push(`${userId}: API event_count ${body.computedTraits?.event_count}, database ${want}`);
  }
  return { checked, problems };
}

export function registry(registryUrl) {
  return new SchemaRegistry({ host: registryUrl });
}
