import {
  BadRequestException,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Query,
  ServiceUnavailableException,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { DtoValidationPipe } from '@cdp/platform';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ApiKeyGuard, RequireScope, WorkspaceId, Audit } from '@cdp/access';
import type { Profile } from '@cdp/profile-model';
import { ComputedTraitsRepository } from './computed-traits.repository';
import { ProfileExporter } from './profile-export';
import { traitValues } from './user-computed-traits';
import { encodeSearchCursor, MAX_SEARCH_PAGE, parseProfileSearch } from './profile-search';
import {
  EventsPageDto,
  EventsQuery,
  ErasedDto,
  ExportDto,
  IdentitiesDto,
  includedTraits,
  MAX_EVENTS_PAGE,
  parseIsoTime,
  ProfileDto,
  SearchPageDto,
  SegmentsDto,
  TraitsDto,
  TraitsQuery,
} from './profiles.dto';
import { notFoundMessage, parseProfileRef } from './profile-ref';
import { ProfileEraser } from './profile-eraser';
import { ProfileSegmentsRepository } from './profile-segments.repository';
import { SegmentNamesRepository } from './segment-names.repository';
import { identifiersView, profileView, segmentView, timelineView, traitsView } from './profile-views';
import { ProfileIdentifiersRepository } from './profile-identifiers.repository';
import { ProfilesRepository } from './profiles.repository';
import { decodeCursor, encodeCursor } from './timeline-cursor';
import { TimelineRepository } from './timeline.repository';

const DEFAULT_EVENTS_PAGE = 50;
/** A trait search scans the workspace's profiles on the local FerretDB (no index): it stops after this long. */
const SEARCH_MAX_MS = 5_000;

const ID_PARAM = {
  name: 'id',
  description: 'A profile id, or an identifier as type:value (email:jane@example.com, user_id:42, anonymous_id:...).',
};

/** The Profile API: a profile by id or `type:value`, always answered with its canonical id. */
@ApiTags('profiles')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No or an unknown API key.' })
@ApiForbiddenResponse({ description: 'The key lacks the scope of the route.' })
@Controller('v1/profiles')
@UseGuards(ApiKeyGuard)
@RequireScope('read:profiles')
@UsePipes(new DtoValidationPipe())
export class ProfilesController {
  constructor(
    private readonly profiles: ProfilesRepository,
    private readonly identifiers: ProfileIdentifiersRepository,
    private readonly timeline: TimelineRepository,
    private readonly segments: ProfileSegmentsRepository,
    private readonly segmentNames: SegmentNamesRepository,
    private readonly eraser: ProfileEraser,
    private readonly exporter: ProfileExporter,
    private readonly definitions: ComputedTraitsRepository,
  ) {}

  /**
   * Profiles by trait equality (every condition must hold), by profile id. Not indexed on the
   * local FerretDB: bounded by SEARCH_MAX_MS.
   */
  @Get()
  @Audit('profile.search')
  @ApiOperation({
    summary: 'Search profiles by trait equality',
    description:
      'Every `trait.<name>=<value>` must hold; a value like 42 or true also matches the number or boolean. Paged by profile id. ' +
      'Not index-backed: it scans the workspace and stops after 5 s (answering 503).',
  })
  @ApiQuery({ name: 'trait.<name>', required: true, description: 'e.g. trait.plan=pro (up to 10 conditions)', type: String })
  @ApiQuery({ name: 'limit', required: false, description: `1..${MAX_SEARCH_PAGE}, default 50`, type: Number })
  @ApiQuery({ name: 'cursor', required: false, description: '`next` of the previous page', type: String })
  @ApiOkResponse({ type: SearchPageDto })
  @ApiBadRequestResponse({ description: 'Unknown parameter, no trait condition, invalid limit or cursor.' })
  async search(@WorkspaceId() workspaceId: string, @Query() query: Record<string, unknown>) {
    const search = parseProfileSearch(query);
    if (typeof search === 'string') throw new BadRequestException(search);
    let found: Profile[];
    try {
      // One extra row tells whether another page exists.
      found = await this.profiles.searchByTraits(workspaceId, search.conditions, search.after, search.limit + 1, SEARCH_MAX_MS);
    } catch (e) {
      if ((e as { code?: unknown }).code === 50) throw new ServiceUnavailableException('search took too long; narrow it down');
      throw e;
    }
    const page = found.slice(0, search.limit);
    const last = page[page.length - 1];
    return { profiles: page.map(profileView), next: found.length > search.limit && last ? encodeSearchCursor(last.profileId) : null };
  }

  @Get(':id')
  @Audit('profile.read')
  @ApiOperation({ summary: 'A profile by id or type:value' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: ProfileDto })
  @ApiNotFoundResponse({ description: 'Unknown profile (or one of another workspace).' })
  async get(@WorkspaceId() workspaceId: string, @Param('id') id: string) {
    const profile = await this.resolve(workspaceId, id);
    const view = profileView(profile);
    return { ...view, computedTraits: { ...(await this.userComputedTraits(profile)), ...view.computedTraits } };
  }

  /** The values of the workspace's user-defined computed traits now (one more read, only when it has some). */
  private async userComputedTraits(profile: Profile) {
    const defs = await this.definitions.cached(profile.workspaceId);
    if (defs.length === 0) return {};
    const loaded = await this.profiles.getWithState(profile.workspaceId, profile.profileId);
    return traitValues(defs, loaded?.custom ?? {}, Date.now());
  }

  @Get(':id/traits')
  @Audit('profile.read')
  @ApiOperation({ summary: "The profile's traits (all, or only those named by `include`)" })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: TraitsDto })
  @ApiBadRequestResponse({ description: 'Invalid verbose, or an include list that is empty or too long.' })
  @ApiNotFoundResponse({ description: 'Unknown profile.' })
  async traits(@WorkspaceId() workspaceId: string, @Param('id') id: string, @Query() query: TraitsQuery) {
    const profile = await this.resolve(workspaceId, id);
    const include = query.include === undefined ? undefined : new Set(includedTraits(query.include));
    return { profileId: profile.profileId, traits: traitsView(profile, query.verbose === true, include) };
  }

  @Get(':id/identities')
  @Audit('profile.read')
  @ApiOperation({ summary: "The profile's identifiers and absorbed profile ids" })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: IdentitiesDto })
  @ApiNotFoundResponse({ description: 'Unknown profile.' })
  async identities(@WorkspaceId() workspaceId: string, @Param('id') id: string) {
    const profile = await this.resolve(workspaceId, id);
    return {
      profileId: profile.profileId,
      identifiers: identifiersView(profile.identifiers),
      absorbedProfileIds: profile.absorbedProfileIds,
    };
  }

  @Get(':id/events')
  @Audit('profile.read')
  @ApiOperation({
    summary: "A page of the profile's timeline, newest first",
    description:
      'Filters combine (all must hold) and page with the cursor like the whole timeline; keep them the same from page to page. ' +
      '`event` matches a track event by its event name and a page or screen call by its name.',
  })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: EventsPageDto })
  @ApiBadRequestResponse({ description: 'Invalid limit, cursor, event, since or until, or until not after since.' })
  @ApiNotFoundResponse({ description: 'Unknown profile.' })
  async events(@WorkspaceId() workspaceId: string, @Param('id') id: string, @Query() query: EventsQuery) {
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !after) throw new BadRequestException('cursor is not valid; use the "next" value of a previous page');
    // The DTO has checked both times: parsed here into epoch ms.
    const since = query.since === undefined ? undefined : (parseIsoTime(query.since) ?? undefined);
    const until = query.until === undefined ? undefined : (parseIsoTime(query.until) ?? undefined);
    // An empty range is a mistake rather than a question with no answer.
    if (since !== undefined && until !== undefined && until <= since)
      throw new BadRequestException('until must be after since (since is inclusive, until exclusive)');
    const profile = await this.resolve(workspaceId, id);
    const limit = Math.min(query.limit ?? DEFAULT_EVENTS_PAGE, MAX_EVENTS_PAGE);
    const ids = [profile.profileId, ...profile.absorbedProfileIds];
    // One extra row tells whether another page exists.
    const docs = await this.timeline.page(workspaceId, ids, limit + 1, after, { event: query.event, since, until });
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
  @ApiOperation({ summary: 'The segments the profile is a member of (as reported by the segmenter)' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: SegmentsDto })
  @ApiNotFoundResponse({ description: 'Unknown profile.' })
  async profileSegments(@WorkspaceId() workspaceId: string, @Param('id') id: string) {
    const profile = await this.resolve(workspaceId, id);
    const docs = await this.segmentNames.withCurrentNames(workspaceId, await this.segments.memberOf(workspaceId, profile.profileId));
    return { profileId: profile.profileId, segments: docs.map(segmentView) };
  }

  /** Everything held about the person (data subject access request). */
  @Get(':id/export')
  @Audit('profile.export')
  @ApiOperation({
    summary: 'Everything held about the person, as JSON',
    description: 'Profile, traits with metadata, identifiers, timeline (newest 10,000 events) and segment memberships.',
  })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: ExportDto })
  @ApiNotFoundResponse({ description: 'Unknown profile.' })
  async export(@WorkspaceId() workspaceId: string, @Param('id') id: string) {
    const profile = await this.resolve(workspaceId, id);
    const exported = await this.exporter.export(profile);
    const computedTraits = { ...(await this.userComputedTraits(profile)), ...exported.profile.computedTraits };
    return { ...exported, profile: { ...exported.profile, computedTraits } };
  }

  /**
   * Erases the person. 202 once erased (the segmenter's exits follow asynchronously); a second
   * DELETE answers 404, as for any unknown profile. A failed erasure is completed by repeating it.
   */
  @Delete(':id')
  @Audit('profile.erase')
  @RequireScope('write:profiles')
  @HttpCode(202)
  @ApiOperation({ summary: 'Erase the person (scope write:profiles)' })
  @ApiParam(ID_PARAM)
  @ApiAcceptedResponse({ type: ErasedDto })
  @ApiNotFoundResponse({ description: 'Unknown (or already erased) profile.' })
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
    if (!profile) throw new NotFoundException(notFoundMessage(ref, id));
    return profile;
  }
}
