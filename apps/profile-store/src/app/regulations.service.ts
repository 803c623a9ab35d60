import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { identifierHash } from '@cdp/contracts';
import { ErasuresRepository, SUPPRESS_FOREVER } from './erasures.repository';
import { ProfileEraser } from './profile-eraser';
import { ProfileIdentifiersRepository } from './profile-identifiers.repository';
import { ProfilesRepository } from './profiles.repository';
import { normalizeRegulationIdentifiers } from './regulation-identifiers';
import { RegulationSuppressions } from './regulation-suppressions';
import { ProfileStoreConfig } from './profile-store.config';
import type { RegulationType, RegulationView } from './regulations.dto';
import { RegulationsRepository, type RegulationDoc } from './regulations.repository';

const DAY_MS = 24 * 60 * 60 * 1000;

/** How long an unfinished regulation may sit untouched before the worker picks it up again. */
const RESUME_AFTER_MS = 30_000;
const RESUME_CHECK_MS = 10_000;

const suppresses = (type: RegulationType): boolean => type === 'suppress' || type === 'suppress_with_delete';
const deletes = (type: RegulationType): boolean => type === 'delete' || type === 'suppress_with_delete';

export function regulationView(d: RegulationDoc): RegulationView {
  return {
    regulationId: d.regulationId,
    type: d.type,
    status: d.status,
    identifierCount: d.identifierCount,
    profilesFound: d.profilesFound,
    profilesErased: d.profilesErased,
    createdAt: new Date(d.createdAt).toISOString(),
    finishedAt: d.finishedAt === null ? null : new Date(d.finishedAt).toISOString(),
  };
}

/**
 * Regulations: suppression is stored before the request is answered (so every event handled
 * after the 202 is dropped); the erasures run in the background with the profile eraser and are
 * resumed after a crash or failure from the stored list of pending profile ids.
 */
@Injectable()
export class RegulationsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RegulationsService.name);
  private timer: NodeJS.Timeout | undefined;
  /** Regulations being worked on by this process (never two runs of one at once here). */
  private readonly running = new Set<string>();

  constructor(
    private readonly regulations: RegulationsRepository,
    private readonly erasures: ErasuresRepository,
    private readonly identifiers: ProfileIdentifiersRepository,
    private readonly profiles: ProfilesRepository,
    private readonly eraser: ProfileEraser,
    private readonly suppressions: RegulationSuppressions,
    private readonly config: ProfileStoreConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.resumeStale(), RESUME_CHECK_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async create(workspaceId: string, type: RegulationType, raw: readonly { type: string; value: string }[]): Promise<RegulationDoc> {
    const identifiers = normalizeRegulationIdentifiers(raw);
    const hashes = identifiers.map((i) => identifierHash(workspaceId, i.type, i.value));
    const regulationId = `reg_${randomBytes(12).toString('base64url')}`;
    const now = Date.now();
    // Stored here and acknowledged on the topic before the answer: a 202 means in force (or lifted)
    // in this service, and on its way to the normalizer. A failure answers 5xx; repeating is harmless.
    if (suppresses(type)) {
      await this.erasures.remember(workspaceId, hashes, now, SUPPRESS_FOREVER, 'regulation');
      await this.suppressions.suppressed(workspaceId, hashes, regulationId, now);
    } else if (type === 'unsuppress') {
      const erasureWindow = now + this.config.PROFILE_ERASURE_SUPPRESSION_DAYS * DAY_MS;
      await this.erasures.lift(workspaceId, hashes, erasureWindow);
      // Every identifier asked for, also those not held here (the normalizer's copy may hold more):
      // lifted, or back to an erasure's window where one holds it too.
      await this.suppressions.mirror(workspaceId, hashes, await this.erasures.untilOf(workspaceId, hashes), regulationId, now);
    }
    // One lookup by _id (at most 1000 keys): the profiles the identifiers were first seen on.
    const profileIds = deletes(type)
      ? await this.identifiers.lookupMany(
          workspaceId,
          identifiers.map((i) => i.idKey),
        )
      : [];
    const doc: RegulationDoc = {
      workspaceId,
      regulationId,
      type,
      status: profileIds.length > 0 ? 'in_progress' : 'finished',
      identifierCount: identifiers.length,
      profilesFound: profileIds.length,
      profilesErased: 0,
      pendingProfileIds: profileIds,
      createdAt: now,
      updatedAt: now,
      finishedAt: profileIds.length > 0 ? null : now,
    };
    await this.regulations.create(doc);
    this.logger.log(
      `regulation ${doc.regulationId} (${type}) of ${workspaceId}: ${identifiers.length} identifiers, ${profileIds.length} profiles`,
    );
    if (doc.status === 'in_progress') void this.run(doc);
    return doc;
  }

  get(workspaceId: string, regulationId: string): Promise<RegulationDoc | null> {
    return this.regulations.get(workspaceId, regulationId);
  }

  /** Erases the pending profiles one after the other; a failure leaves the rest for the resume timer. */
  private async run(doc: RegulationDoc): Promise<void> {
    const { workspaceId, regulationId } = doc;
    if (this.running.has(regulationId)) return;
    this.running.add(regulationId);
    try {
      const pending = [...doc.pendingProfileIds];
      while (pending.length > 0) {
        const profileId = pending[0] as string;
        await this.regulations.touch(workspaceId, regulationId, Date.now());
        // The id the identifier was first seen on may since have been absorbed: erase its survivor.
        const profile = await this.profiles.canonical(workspaceId, profileId);
        if (profile) await this.eraser.erase(profile);
        pending.shift();
        await this.regulations.progressed(workspaceId, regulationId, pending, Date.now());
      }
      await this.regulations.finish(workspaceId, regulationId, Date.now());
    } catch (e) {
      this.logger.warn(`regulation ${regulationId} of ${workspaceId} stopped, to be resumed: ${(e as Error).message}`);
    } finally {
      this.running.delete(regulationId);
    }
  }

  private async resumeStale(): Promise<void> {
    try {
      const stale = await this.regulations.stale(Date.now() - RESUME_AFTER_MS, 20);
      for (const doc of stale) await this.run(doc);
    } catch (e) {
      this.logger.warn(`resuming regulations failed: ${(e as Error).message}`);
    }
  }
}
