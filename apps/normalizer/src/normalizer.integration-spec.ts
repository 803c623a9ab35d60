import { testScope, waitFor } from '@cdp/testing';
import { metricsOf, startNormalizerStack, type NormalizerStack } from './testing/normalizer-stack';

/**
 * The built normalizer on the real stack: Avro and plain JSON raw events in, cleaned events on
 * cdp.events.normalized.v1, duplicates dropped (also across a restart), bad records on the DLQ.
 */
const scope = testScope('normalizer');
const WS = `ws${scope.id}`;
const WS_DE = `wsde${scope.id}`;
const WS_FLAG = `wsflag${scope.id}`;
const WS_BLOCK = `wsblock${scope.id}`;
const ORDER_SCHEMA = JSON.stringify({ type: 'object', required: ['total'], properties: { total: { type: 'number' } } });

let stack: NormalizerStack;

beforeAll(async () => {
  stack = await startNormalizerStack(scope, {
    seed: async (mongo) => {
      // A German workspace that anonymizes IPs (read by the normalizer through its settings cache).
      await mongo.db().collection('normalizer_settings').insertOne({ workspaceId: WS_DE, defaultRegion: 'DE', anonymizeIp: true });
      await mongo
        .db()
        .collection('normalizer_tracking_plans')
        .insertMany([
          { workspaceId: WS_FLAG, mode: 'flag', events: [{ name: 'Order Completed', schema: ORDER_SCHEMA }] },
          { workspaceId: WS_BLOCK, mode: 'block', events: [{ name: 'Order Completed', schema: ORDER_SCHEMA }] },
        ]);
    },
  });
}, 120_000);

afterAll(() => stack?.stop());

const avro = (workspaceId: string, messageId: string, message: Record<string, unknown>) => stack.avro(workspaceId, messageId, message);
const send = (key: string, ...values: Buffer[]) => stack.send(key, ...values);
const withLogs = (run: () => Promise<void>) => stack.withLogs(run);

const byMessageId = (id: string) => stack.normalized.records.filter((r) => r.value.messageId === id);

it('cleans an Avro identify: email, E.164 phone, reserved trait keys', () =>
  withLogs(async () => {
    const id = `m-clean-${scope.id}`;
    await send(
      `${WS}:a1`,
      await avro(WS, id, {
        type: 'identify',
        anonymousId: 'a1',
        traits: {
          E_mail: '  Jane@Example.COM ',
          phone_number: '(415) 555-2671',
          first_name: '  Jane   Doe ',
          zip: '94107',
          country: 'USA',
        },
        properties: {},
      }),
    );
    const record = await stack.normalized.waitForRecord((e) => e.messageId === id, 'the cleaned identify');
    expect(record.key).toBe(`${WS}:a1`);
    expect(JSON.parse(record.value.traits)).toEqual({
      email: 'jane@example.com',
      phone: '+14155552671',
      firstName: 'Jane Doe',
      country: 'US',
      address: { postalCode: '94107', country: 'US' },
    });
  }));

it('cleans a plain JSON track with the workspace settings: default region, anonymized IP, amounts', () =>
  withLogs(async () => {
    const id = `m-json-${scope.id}`;
    const message = {
      type: 'track',
      event: 'Order Completed',
      userId: 'u1',
      messageId: id,
      properties: { revenue: '12.50', currency: 'eur' },
      context: {
        ip: '203.0.113.195',
        traits: { mobile: '030 1234567' },
        userAgent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
      },
    };
    await send(`${WS_DE}:u1`, Buffer.from(JSON.stringify(message)));
    const { value } = await stack.normalized.waitForRecord((e) => e.messageId === id, 'the cleaned JSON track');
    expect(value).toMatchObject({ workspaceId: WS_DE, type: 'track', event: 'Order Completed', userId: 'u1' });
    expect(JSON.parse(value.properties)).toEqual({ revenue: 12.5, currency: 'EUR' });
    expect(JSON.parse(value.traits)).toEqual({ phone: '+49301234567' });
    expect(JSON.parse(value.context)).toMatchObject({ ip: '203.0.113.0', bot: true });
  }));

it('takes receivedAt for a time it cannot use, and counts why', () =>
  withLogs(async () => {
    const sent = { unreadable: 'next tuesday', future: '2099-01-01T00:00:00Z', fine: '2026-11-30T10:00:00+01:00' };
    for (const [name, timestamp] of Object.entries(sent)) {
      const message = { type: 'track', event: 'Clicked', userId: 'u-time', messageId: `m-time-${name}-${scope.id}`, timestamp };
      await send(`${WS}:u-time`, Buffer.from(JSON.stringify(message)));
    }
    const timeOf = async (name: string) =>
      (await stack.normalized.waitForRecord((e) => e.messageId === `m-time-${name}-${scope.id}`, `the ${name} track`)).value;
    for (const name of ['unreadable', 'future']) {
      const value = await timeOf(name);
      expect(value.timestamp).toBe(value.receivedAt);
    }
    expect((await timeOf('fine')).timestamp).toBe(Date.parse('2026-11-30T09:00:00Z'));
    const metrics = await metricsOf(stack.normalizer);
    expect(metrics).toMatch(/cdp_normalizer_timestamps_replaced_total\{reason="unreadable"[^}]*\} 1\b/);
    expect(metrics).toMatch(/cdp_normalizer_timestamps_replaced_total\{reason="future"[^}]*\} 1\b/);
    expect(metrics).not.toMatch(/cdp_normalizer_timestamps_replaced_total\{reason="past"/);
  }));

it('produces a messageId once, also when it comes again after a restart', () =>
  withLogs(async () => {
    const dup = `m-dup-${scope.id}`;
    const identify = { type: 'identify', anonymousId: 'a2', traits: { email: 'dup@example.com' } };
    // Same key, so one partition in order: the sentinel after the copies proves they were handled.
    await send(
      `${WS}:a2`,
      await avro(WS, dup, identify),
      await avro(WS, dup, identify),
      Buffer.from(JSON.stringify({ ...identify, messageId: dup })),
    );
    await send(`${WS}:a2`, await avro(WS, `m-after1-${scope.id}`, identify));
    await stack.normalized.waitForRecord((e) => e.messageId === `m-after1-${scope.id}`, 'the first sentinel');
    expect(byMessageId(dup)).toHaveLength(1);
    // The same messageId in another workspace is another event.
    await send(`${WS_DE}:a2`, await avro(WS_DE, dup, identify));
    await waitFor(
      () => stack.normalized.records.some((r) => r.value.messageId === dup && r.value.workspaceId === WS_DE),
      'the other workspace',
    );

    const metrics = await metricsOf(stack.normalizer);
    expect(metrics).toMatch(/cdp_normalizer_duplicates_total\{[^}]*\} 2\b/);

    // An entry older than the window, swept when the normalizer starts.
    const dedupe = stack.mongo.db().collection('normalizer_dedupe');
    await dedupe.insertOne({ workspaceId: WS, messageId: 'm-expired', claimedBy: 'x/0/0', seenAt: new Date(Date.now() - 25 * 3_600_000) });
    // Claims are unique by `_id` alone; the unique index of earlier versions is dropped at start.
    const indexNames = async () => (await dedupe.indexes()).map((i) => i.name);
    expect(await indexNames()).not.toContain('dedupe_unique');
    await dedupe.createIndex({ workspaceId: 1, messageId: 1 }, { name: 'dedupe_unique', unique: true });
    await stack.restart();
    await waitFor(async () => (await dedupe.countDocuments({ workspaceId: WS, messageId: 'm-expired' })) === 0, 'the sweep');
    expect(await indexNames()).not.toContain('dedupe_unique');
    expect(await dedupe.countDocuments({ workspaceId: WS, messageId: dup })).toBe(1);
    await send(`${WS}:a2`, await avro(WS, dup, identify), await avro(WS, `m-after2-${scope.id}`, identify));
    await stack.normalized.waitForRecord((e) => e.messageId === `m-after2-${scope.id}`, 'the second sentinel', 60_000);
    expect(byMessageId(dup).filter((r) => r.value.workspaceId === WS)).toHaveLength(1);
  }));

it('dead-letters bad records with their reason code and original bytes', () =>
  withLogs(async () => {
    const badType = await avro(WS, `m-bad-${scope.id}`, { type: 'nope', userId: 'u' });
    const garbage = Buffer.from([0x01, 0x02, 0x03, 0x04]);
    await send(`${WS}:bad`, badType, garbage);
    const typeLetter = await stack.dlq.waitForRecord((d) => d.originalValue?.equals(badType) === true, 'the invalid_type letter');
    expect(typeLetter.value).toMatchObject({ workspaceId: WS, stage: 'normalizer', reason: 'invalid_type', sourceTopic: stack.rawTopic });
    expect(typeLetter.value.originalKey?.toString('utf8')).toBe(`${WS}:bad`);
    // The log line names the event, so an operator can find it in the DLQ listing.
    await waitFor(
      () => stack.normalizer.output().includes(`"messageId":"m-bad-${scope.id}"`),
      'the dead-letter log line with the messageId',
      10_000,
    );
    const garbageLetter = await stack.dlq.waitForRecord((d) => d.originalValue?.equals(garbage) === true, 'the undecodable letter');
    expect(garbageLetter.value).toMatchObject({ workspaceId: WS, reason: 'not_confluent_avro' });
    expect(Number(garbageLetter.value.sourceOffset)).toBe(Number(typeLetter.value.sourceOffset) + 1);
  }));

it('checks tracking plans: flag annotates, block dead-letters, a valid event passes clean', () =>
  withLogs(async () => {
    const order = (total: unknown) => ({ type: 'track', event: 'Order Completed', userId: 'u', properties: { total } });
    await send(`${WS_FLAG}:u`, await avro(WS_FLAG, `m-flag-${scope.id}`, order('lots')), await avro(WS_FLAG, `m-ok-${scope.id}`, order(3)));
    const blocked = await avro(WS_BLOCK, `m-block-${scope.id}`, order('lots'));
    await send(`${WS_BLOCK}:u`, blocked);
    const flagged = await stack.normalized.waitForRecord((e) => e.messageId === `m-flag-${scope.id}`, 'the flagged event');
    expect(flagged.value.violations).toEqual(['properties/total must be number']);
    const ok = await stack.normalized.waitForRecord((e) => e.messageId === `m-ok-${scope.id}`, 'the valid event');
    expect(ok.value.violations).toEqual([]);
    const letter = await stack.dlq.waitForRecord((d) => d.originalValue?.equals(blocked) === true, 'the blocked event');
    expect(letter.value).toMatchObject({ workspaceId: WS_BLOCK, reason: 'tracking_plan_violation' });
    expect(letter.value.message).toContain('properties/total must be number');
    expect(byMessageId(`m-block-${scope.id}`)).toHaveLength(0);
  }));
