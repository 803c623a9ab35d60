import { Injectable } from '@nestjs/common';
import { compileDefinition, type CompiledDefinition } from '@cdp/segment-language';
import { SegmenterConfig } from '../segmenter.config';
import type { SegmentRule } from '../membership/transition';
import { SegmentsRepository } from './segments.repository';

export interface CompiledSegment extends SegmentRule {
  compiled: CompiledDefinition;
  /** Definition version (see SegmentDocument.version). */
  version: number;
  /** Traits each of its changes carries. */
  outputTraits: readonly string[];
  /** Topic (without namespace) its changes are also produced on, or null. */
  outputTopic: string | null;
}

/** A workspace's segments, compiled, in dependency order (a segment after those it reads). */
export interface WorkspaceSegments {
  ordered: CompiledSegment[];
  byId: ReadonlyMap<string, CompiledSegment>;
  /** Every event name some segment counts. */
  events: ReadonlySet<string>;
  /** Every trait some segment reads. */
  traits: ReadonlySet<string>;
}

/** Ids of the segments `current` holds that `seen` (an earlier read of the catalog) lacks, or holds at another version. */
export const changedSince = (seen: WorkspaceSegments, current: WorkspaceSegments): string[] =>
  seen === current ? [] : current.ordered.filter((s) => seen.byId.get(s.segmentId)?.version !== s.version).map((s) => s.segmentId);

interface Entry {
  loadedAt: number;
  segments: Promise<WorkspaceSegments>;
}

/** Orders segments so that each comes after the segments it reads (definitions are stored acyclic). */
export function dependencyOrder<S extends { segmentId: string; compiled: { segments: ReadonlySet<string> } }>(segments: readonly S[]): S[] {
  const byId = new Map(segments.map((s) => [s.segmentId, s]));
  const out: S[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (s: S): void => {
    if (state.has(s.segmentId)) return; // done, or a cycle from concurrent writes: break it here
    state.set(s.segmentId, 'visiting');
    for (const id of s.compiled.segments) {
      const dep = byId.get(id);
      if (dep) visit(dep);
    }
    state.set(s.segmentId, 'done');
    out.push(s);
  };
  segments.forEach(visit);
  return out;
}

export function compileSegments(
  docs: readonly {
    segmentId: string;
    name: string;
    definition: CompiledDefinition['definition'];
    version?: number;
    outputTraits?: readonly string[];
    outputTopic?: string | null;
  }[],
): WorkspaceSegments {
  const compiled = docs.map((d): CompiledSegment => {
    const c = compileDefinition(d.definition);
    return {
      segmentId: d.segmentId,
      name: d.name,
      compiled: c,
      readsAny: c.readsAny,
      events: c.events,
      computed: c.computed,
      version: d.version ?? 1,
      outputTraits: d.outputTraits ?? [],
      outputTopic: d.outputTopic ?? null,
    };
  });
  const ordered = dependencyOrder(compiled);
  return {
    ordered,
    byId: new Map(ordered.map((s) => [s.segmentId, s])),
    events: new Set(ordered.flatMap((s) => [...s.events])),
    traits: new Set(ordered.flatMap((s) => [...s.compiled.traits])),
  };
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

  forWorkspace(workspaceId: string): Promise<WorkspaceSegments> {
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

  private async load(workspaceId: string): Promise<WorkspaceSegments> {
    // A segment being deleted is evaluated no more (its members are exiting).
    return compileSegments((await this.segments.list(workspaceId)).filter((s) => !s.deleting));
  }
}
