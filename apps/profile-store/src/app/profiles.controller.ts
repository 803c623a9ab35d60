import {
  BadRequestException,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Query,
  UseGuards,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import { ApiKeyGuard, RequireScope, WorkspaceId, Audit } from '@cdp/access';
import type { Profile } from '@cdp/profile-model';
import { EventsQuery, MAX_EVENTS_PAGE, TraitsQuery } from './profiles.dto';
import { parseProfileRef } from './profile-ref';
import { ProfileEraser } from './profile-eraser';
import { ProfileSegmentsRepository } from './profile-segments.repository';
import { profileView, segmentView, timelineView, traitsView } from './profile-views';
import { ProfileIdentifiersRepository } from './profile-identifiers.repository';
import { ProfilesRepository } from './profiles.repository';
import { decodeCursor, encodeCursor } from './timeline-cursor';
import { TimelineRepository } from './timeline.repository';

const DEFAULT_EVENTS_PAGE = 50;

/** The Profile API: a profile by id or `type:value`, always answered with its canonical id. */
@Controller('v1/profiles')
@UseGuards(ApiKeyGuard)
@RequireScope('read:profiles')
@UsePipes(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }))
export class ProfilesController {
  constructor(
    private readonly profiles: ProfilesRepository,
    private readonly identifiers: ProfileIdentifiersRepository,
    private readonly timeline: TimelineRepository,
    private readonly segments: ProfileSegmentsRepository,
    private readonly eraser: ProfileEraser,
  ) {}

  @Get(':id')
  @Audit('profile.read')
  async get(@WorkspaceId() workspaceId: string, @Param('id') id: string) {
    return profileView(await this.resolve(workspaceId, id));
  }

  @Get(':id/traits')
  @Audit('profile.read')
  async traits(@WorkspaceId() workspaceId: string, @Param('id') id: string, @Query() query: TraitsQuery) {
    const profile = await this.resolve(workspaceId, id);
    return { profileId: profile.profileId, traits: traitsView(profile, query.verbose === true) };
  }

  @Get(':id/identities')
  @Audit('profile.read')
  async identities(@WorkspaceId() workspaceId: string, @Param('id') id: string) {
    const profile = await this.resolve(workspaceId, id);
    return { profileId: profile.profileId, identifiers: profile.identifiers, absorbedProfileIds: profile.absorbedProfileIds };
  }

  @Get(':id/events')
  @Audit('profile.read')
  async events(@WorkspaceId() workspaceId: string, @Param('id') id: string, @Query() query: EventsQuery) {
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !after) throw new BadRequestException('cursor is not valid; use the "next" value of a previous page');
    const profile = await this.resolve(workspaceId, id);
    const limit = Math.min(query.limit ?? DEFAULT_EVENTS_PAGE, MAX_EVENTS_PAGE);
    // One extra row tells whether another page exists.
    const docs = await this.timeline.page(workspaceId, [profile.profileId, ...profile.absorbedProfileIds], limit + 1, after);
    const page = docs.slice(0, limit);
    const last = page[page.length - 1];
    return {
      profileId: profile.profileId,
      events: page.map(timelineView),
      next: docs.length > limit && last ? encodeCursor({ timestamp: last.timestamp, messageId: last.messageId }) : null,
    };
  }

  /** The segments the profile is in, as last reported by the segmenter. */
  @Get(':id/segments')
  @Audit('profile.read')
  async profileSegments(@WorkspaceId() workspaceId: string, @Param('id') id: string) {
    const profile = await this.resolve(workspaceId, id);
    const docs = await this.segments.memberOf(workspaceId, profile.profileId);
    return { profileId: profile.profileId, segments: docs.map(segmentView) };
  }

  /**
   * Erases the person. 202 once erased (the segmenter's exits follow asynchronously); a second
   * DELETE answers 404, as for any unknown profile. A failed erasure is completed by repeating it.
   */
  @Delete(':id')
  @Audit('profile.erase')
  @RequireScope('write:profiles')
  @HttpCode(202)
  async erase(@WorkspaceId() workspaceId: string, @Param('id') id: string) {
    const profile = await this.resolve(workspaceId, id);
    await this.eraser.erase(profile);
    return { profileId: profile.profileId, erased: true };
  }

  /** The canonical profile holding the identifier `type:value`. */
  private async byIdentifier(workspaceId: string, idKey: string): Promise<Profile | null> {
    const profileId = await this.identifiers.lookup(workspaceId, idKey);
    return profileId ? this.profiles.canonical(workspaceId, profileId) : null;
  }

  private async resolve(workspaceId: string, id: string): Promise<Profile> {
    const ref = parseProfileRef(id);
    if (!ref) throw new BadRequestException('profile id must be a profile id or type:value (e.g. email:jane@example.com)');
    const profile =
      ref.kind === 'identifier'
        ? // A profile id may itself look like type:value; try it as one before answering 404.
          ((await this.byIdentifier(workspaceId, ref.idKey)) ?? (await this.profiles.canonical(workspaceId, id.trim())))
        : await this.profiles.canonical(workspaceId, ref.profileId);
    if (!profile) throw new NotFoundException(ref.kind === 'identifier' ? `no profile has identifier ${ref.type}:…` : 'profile not found');
    return profile;
  }
}
