import { Inject, Injectable, Logger, Optional, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { MongoConnection } from '@cdp/mongo';
import type { ProfileChange } from '@cdp/contracts';
import type { Profile } from '@cdp/profile-model';
import { ComputedTraitsRepository, type BackfillJob, type BackfillProgress } from './computed-traits.repository';
import { TimelineScan } from './computed-trait-backfill.repository';
import { profileChange } from './profile-change';
import { ProfileChangePublisher, type ChangeSink } from './profile-change.publisher';
import { ProfilesRepository } from './profiles.repository';
import {
  backfillStates,
  batchApplied,
  contribution,
  traitValues,
  type ComputedTraitDefinition,
  type TimelineEvent,
} from './user-computed-traits';

/** Timeline events per batch (each batch: one CAS write per profile it touches, then the cursor is saved). */
export const BACKFILL_BATCH = 500;
/** Injection token of the batch size (tests use small batches). */
export const BACKFILL_BATCH_SIZE = 'COMPUTED_TRAIT_BACKFILL_BATCH_SIZE';
/** How often idle workers look for due backfills. */
const POLL_MS = 2_000;
/** A worker that stops renewing (crashed) loses its backfill to another after this. */
const LEASE_MS = 30_000;
/** A failed backfill is retried after this. */
const RETRY_MS = 30_000;
const MAX_ATTEMPTS = 8;
const MAX_REDIRECTS = 16;

/** The progress shown by the API. */
export interface BackfillView {
  status: BackfillProgress['status'];
  percent: number;
  eventsScanned: number;
  eventsTotal: number | null;
  profilesUpdated: number;
  profilesPerSecond: number;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
}

/** ISO 8601, as every other time the API answers (the progress document keeps epoch ms). */
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** Progress as a view (pure). Percent stays below 100 until done: the timeline grows while it runs. */
export function backfillView(p: BackfillProgress): BackfillView {
  const ratio = p.eventsTotal ? p.eventsScanned / p.eventsTotal : 0;
  const percent = p.status === 'done' ? 100 : Math.min(99, Math.floor(ratio * 100));
  return {
    status: p.status,
    percent,
    eventsScanned: p.eventsScanned,
    eventsTotal: p.eventsTotal,
    profilesUpdated: p.profilesUpdated,
    profilesPerSecond: p.busyMs > 0 ? Math.round((p.profilesUpdated / p.busyMs) * 1000 * 10) / 10 : 0,
    startedAt: iso(p.startedAt),
    finishedAt: iso(p.finishedAt),
    error: p.error,
  };
}

/** Matching events of a batch grouped by the timeline profile id that holds them (pure). */
export function matchingByProfile(def: ComputedTraitDefinition, events: readonly TimelineEvent[]): Map<string, TimelineEvent[]> {
  const groups = new Map<string, TimelineEvent[]>();
  for (const e of events) {
    if (contribution(def, e) === undefined) continue;
    const list = groups.get(e.profileId);
    if (list) list.push(e);
    else groups.set(e.profileId, [e]);
  }
  return groups;
}

/**
 * Computes new and changed computed-trait definitions over the stored timelines, in the
 * background: the workspace's timeline in `_id` order (one cursor), a batch at a time; each batch is applied to
 * the profiles it touches (followed to their survivor) with compare-and-set, then the cursor is
 * saved, so a restart resumes at the last saved batch (a replayed batch is not counted twice: see
 * BackfillMark in user-computed-traits.ts). A lease lets several instances share the work safely.
 * Each profile it changes gets an `updated` profile change with no event, so that segments
 * reading computed traits see the backfilled values.
 */
@Injectable()
export class ComputedTraitBackfill implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ComputedTraitBackfill.name);
  private readonly owner = randomUUID();
  private readonly timeline: TimelineScan;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private current: Promise<void> | null = null;

  constructor(
    private readonly definitions: ComputedTraitsRepository,
    private readonly profiles: ProfilesRepository,
    mongo: MongoConnection,
    @Inject(ProfileChangePublisher) private readonly changes: ChangeSink,
    @Optional() @Inject(BACKFILL_BATCH_SIZE) private readonly batchSize: number = BACKFILL_BATCH,
  ) {
    this.timeline = new TimelineScan(mongo);
  }

  onApplicationBootstrap(): void {
    this.stopped = false;
    this.schedule(POLL_MS);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.current;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.current = this.tick()
        .catch((e: unknown) => this.logger.warn(`backfill poll failed: ${e instanceof Error ? e.message : String(e)}`))
        .finally(() => {
          this.current = null;
          this.schedule(POLL_MS);
        });
    }, ms);
    this.timer.unref();
  }

  /** Runs every due backfill (one at a time, to keep the load of a shared store modest). */
  async tick(now = Date.now()): Promise<void> {
    for (const job of await this.definitions.dueBackfills(now)) {
      if (this.stopped) return;
      await this.run(job);
    }
  }

  private async run(job: BackfillJob): Promise<void> {
    const { workspaceId, def } = job;
    const sk = job.progress.stateKey;
    const lease = (fields: Partial<BackfillProgress> = {}) =>
      this.definitions.leaseBackfill(workspaceId, def.name, sk, this.owner, Date.now(), LEASE_MS, fields);
    let p = job.progress;
    if (!(await lease({ status: 'running', startedAt: p.startedAt ?? Date.now() }))) return;
    try {
      if (p.eventsTotal === null) {
        p = { ...p, eventsTotal: await this.timeline.count(workspaceId) };
        if (!(await lease({ eventsTotal: p.eventsTotal }))) return;
      }
      this.logger.log(`backfill of computed trait ${def.name} in workspace ${workspaceId}: from ${p.cursor ?? 'the start'}`);
      // Busy time includes reading the page, so the rate is what the backfill achieves.
      let since = Date.now();
      for await (const events of this.timeline.pages(workspaceId, p.cursor, this.batchSize)) {
        if (this.stopped) return;
        const last = events[events.length - 1];
        if (!last) continue;
        const updated = await this.applyBatch(workspaceId, def, events, last.id);
        p = {
          ...p,
          cursor: last.id,
          eventsScanned: p.eventsScanned + events.length,
          profilesUpdated: p.profilesUpdated + updated,
          busyMs: p.busyMs + (Date.now() - since),
        };
        since = Date.now();
        const { cursor, eventsScanned, profilesUpdated, busyMs } = p;
        // The definition was changed or deleted, or another worker took over: stop here.
        if (!(await lease({ cursor, eventsScanned, profilesUpdated, busyMs, error: null }))) return;
      }
      if (this.stopped) return;
      await lease({ status: 'done', finishedAt: Date.now(), error: null });
      this.logger.log(`backfill of computed trait ${def.name} in workspace ${workspaceId}: done, ${p.profilesUpdated} profiles`);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.logger.warn(`backfill of computed trait ${def.name} in workspace ${workspaceId} failed: ${message}`);
      // Left running and retried later from the saved cursor (a batch is idempotent); the error is shown meanwhile.
      await lease({ error: message.slice(0, 300), startAfter: Date.now() + RETRY_MS }).catch(() => undefined);
    }
  }

  /**
   * Applies one batch to every profile it touches and produces their changes before the cursor
   * moves on (a batch replayed after a crash changes nothing again, but produces its changes
   * again: the crash may have come before they were produced); returns how many profiles changed.
   */
  async applyBatch(workspaceId: string, def: ComputedTraitDefinition, events: readonly TimelineEvent[], batchEnd: string): Promise<number> {
    const bySource = matchingByProfile(def, events);
    // A timeline profile id may have been absorbed: its events go to the survivor.
    const byTarget = new Map<string, TimelineEvent[]>();
    for (const [source, list] of bySource) {
      const target = await this.survivor(workspaceId, source);
      if (target === null) continue; // erased
      const merged = byTarget.get(target);
      if (merged) merged.push(...list);
      else byTarget.set(target, [...list]);
    }
    const changes: ProfileChange[] = [];
    let written = 0;
    for (const [target, list] of byTarget) {
      const outcome = await this.applyToProfile(workspaceId, target, def, list, batchEnd);
      if (!outcome) continue;
      changes.push(outcome.change);
      if (outcome.written) written++;
    }
    await this.changes.publish(changes.map((change) => ({ change })));
    return written;
  }

  /** The profile's change and whether this run wrote it; null when the batch is nothing to it (counted live, erased). */
  private async applyToProfile(
    workspaceId: string,
    profileId: string,
    def: ComputedTraitDefinition,
    events: readonly TimelineEvent[],
    batchEnd: string,
  ): Promise<{ change: ProfileChange; written: boolean } | null> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const loaded = await this.profiles.getWithState(workspaceId, profileId);
      if (!loaded) return null;
      if (loaded.profile.mergedInto) {
        // Absorbed since it was resolved: the survivor gets the events.
        const target = await this.survivor(workspaceId, loaded.profile.mergedInto);
        return target === null ? null : this.applyToProfile(workspaceId, target, def, events, batchEnd);
      }
      const now = Date.now();
      const next = backfillStates(loaded.custom, def, events, batchEnd, now);
      if (!next) {
        // A replay after a crash between the batch's writes and its produce: the change again, from what is stored.
        if (!batchApplied(loaded.custom, def, events, batchEnd)) return null;
        const defs = await this.definitions.cached(workspaceId, now);
        return {
          change: profileChange(loaded.profile, { kind: 'recomputed' }, now, traitValues(defs, loaded.custom, now)),
          written: false,
        };
      }
      // A new version, so a concurrent live write (which read the old one) retries instead of overwriting.
      const profile: Profile = { ...loaded.profile, version: loaded.profile.version + 1 };
      if (await this.profiles.compareAndSet(profile, loaded.profile.version, next.states)) {
        // The values a live change would carry now (the definitions being backfilled included).
        const defs = await this.definitions.cached(workspaceId, now);
        return { change: profileChange(profile, { kind: 'recomputed' }, now, traitValues(defs, next.states, now)), written: true };
      }
    }
    throw new Error(`profile ${profileId}: version conflict after ${MAX_ATTEMPTS} attempts`);
  }

  /** The profile id a profile id now lives in, or null when it is gone. */
  private async survivor(workspaceId: string, profileId: string): Promise<string | null> {
    let id = profileId;
    for (let hops = 0; hops <= MAX_REDIRECTS; hops++) {
      const profile = await this.profiles.get(workspaceId, id);
      if (!profile) return null;
      if (!profile.mergedInto) return id;
      id = profile.mergedInto;
    }
    return null;
  }
}
