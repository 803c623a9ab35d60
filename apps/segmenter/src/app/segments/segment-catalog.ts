import { Injectable } from '@nestjs/common';
import { compileDefinition, type CompiledDefinition } from '@cdp/segment-language';
import { SegmenterConfig } from '../segmenter.config';
import type { SegmentRule } from '../membership/transition';
import { SegmentsRepository } from './segments.repository';

export interface CompiledSegment extends SegmentRule {
  compiled: CompiledDefinition;
}

interface Entry {
  loadedAt: number;
  segments: Promise<CompiledSegment[]>;
}

/**
 * The workspace's segment definitions, compiled, in memory. Reloaded after a write through this
 * instance and after SEGMENT_CACHE_TTL_MS (other instances may have written).
 */
@Injectable()
export class SegmentCatalog {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly segments: SegmentsRepository,
    private readonly config: SegmenterConfig,
  ) {}

  forWorkspace(workspaceId: string): Promise<CompiledSegment[]> {
    const now = Date.now();
    const entry = this.entries.get(workspaceId);
    if (entry && now - entry.loadedAt < this.config.SEGMENT_CACHE_TTL_MS) return entry.segments;
    // One load per workspace at a time; a failed load is not cached.
    const segments = this.load(workspaceId).catch((e: unknown) => {
      this.entries.delete(workspaceId);
      throw e;
    });
    this.entries.set(workspaceId, { loadedAt: now, segments });
    return segments;
  }

  invalidate(workspaceId: string): void {
    this.entries.delete(workspaceId);
  }

  private async load(workspaceId: string): Promise<CompiledSegment[]> {
    const docs = await this.segments.list(workspaceId);
    return docs.map((d) => {
      const compiled = compileDefinition(d.definition);
      return { segmentId: d.segmentId, name: d.name, compiled, readsAny: compiled.readsAny };
    });
  }
}
