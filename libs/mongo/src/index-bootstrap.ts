import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { WorkspaceRepository, type WorkspaceDocument } from './workspace-repository';

/**
 * Creates the indexes of every WorkspaceRepository provider at start-up, before consumers run.
 * createIndexes is idempotent, so every instance can do it.
 */
@Injectable()
export class IndexBootstrap implements OnModuleInit {
  private readonly logger = new Logger(IndexBootstrap.name);

  constructor(private readonly discovery: DiscoveryService) {}

  async onModuleInit(): Promise<void> {
    const repositories = this.discovery
      .getProviders()
      .map((w) => w.instance as unknown)
      .filter((i): i is WorkspaceRepository<WorkspaceDocument> => i instanceof WorkspaceRepository);
    for (const repo of repositories) await repo.ensureIndexes();
    this.logger.log(`indexes ensured for ${repositories.map((r) => r.collectionName).join(', ') || 'no collections'}`);
  }
}
