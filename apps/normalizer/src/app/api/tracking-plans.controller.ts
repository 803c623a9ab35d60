import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Put,
  UseGuards,
} from '@nestjs/common';
import { ApiKeyGuard, Audit, RequireScope, WorkspaceId } from '@cdp/access';
import {
  EMPTY_PLAN,
  eventNameProblem,
  MAX_PLAN_EVENTS,
  parseEntry,
  parsePlanOptions,
  planView,
  withEvent,
  withoutEvent,
  type PlanEntryView,
  type PlanFields,
  type PlanView,
} from '../tracking-plan-doc';
import { PlanConflictError, TrackingPlansRepository } from '../tracking-plans.repository';

/**
 * The workspace's tracking plan: a JSON Schema per track event name and one for identify traits,
 * each with a mode (allow, flag, block). The traits live at `identify/traits`, a path no event
 * name can take (an event name is one path segment). Changes apply to new events.
 */
@Controller('v1/tracking-plans')
@UseGuards(ApiKeyGuard)
@RequireScope('admin')
export class TrackingPlansController {
  constructor(private readonly plans: TrackingPlansRepository) {}

  @Get()
  async list(@WorkspaceId() workspaceId: string): Promise<PlanView> {
    return planView(await this.plans.read(workspaceId));
  }

  /** The plan's own options: the default mode (also for unplanned events) and whether unplanned events are allowed. */
  @Put()
  @Audit('tracking_plan.update')
  async putOptions(@WorkspaceId() workspaceId: string, @Body() body: unknown): Promise<PlanView> {
    const parsed = parsePlanOptions(body);
    if (!parsed.ok) throw new BadRequestException(parsed.problem);
    return planView(await this.change(workspaceId, (doc) => ({ ...(doc ?? EMPTY_PLAN), ...parsed.value })));
  }

  @Get('identify/traits')
  async getTraits(@WorkspaceId() workspaceId: string): Promise<PlanEntryView> {
    const traits = planView(await this.plans.read(workspaceId)).traits;
    if (!traits) throw new NotFoundException('the tracking plan has no identify traits schema');
    return traits;
  }

  @Put('identify/traits')
  @Audit('tracking_plan.update')
  async putTraits(@WorkspaceId() workspaceId: string, @Body() body: unknown): Promise<PlanEntryView> {
    const parsed = parseEntry('traits', body);
    if (!parsed.ok) throw new BadRequestException(parsed.problem);
    const doc = await this.change(workspaceId, (d) => ({
      ...(d ?? EMPTY_PLAN),
      traits: parsed.value.schema,
      traitsMode: parsed.value.mode ?? null,
    }));
    return planView(doc).traits as PlanEntryView;
  }

  @Delete('identify/traits')
  @HttpCode(204)
  @Audit('tracking_plan.update')
  async deleteTraits(@WorkspaceId() workspaceId: string): Promise<void> {
    let found = false;
    await this.change(workspaceId, (d) => {
      found = Boolean(d?.traits);
      // An empty text means no traits schema ($set cannot remove a field).
      return d && found ? { ...d, traits: '' } : null;
    });
    if (!found) throw new NotFoundException('the tracking plan has no identify traits schema');
  }

  @Get(':eventName')
  async getEvent(@WorkspaceId() workspaceId: string, @Param('eventName') name: string): Promise<PlanEntryView> {
    const entry = planView(await this.plans.read(workspaceId)).events.find((e) => e.name === name);
    if (!entry) throw new NotFoundException(`event ${JSON.stringify(name)} is not in the tracking plan`);
    return entry;
  }

  @Put(':eventName')
  @Audit('tracking_plan.update')
  async putEvent(@WorkspaceId() workspaceId: string, @Param('eventName') name: string, @Body() body: unknown): Promise<PlanEntryView> {
    const problem = eventNameProblem(name);
    if (problem) throw new BadRequestException(problem);
    const parsed = parseEntry(name, body);
    if (!parsed.ok) throw new BadRequestException(parsed.problem);
    const doc = await this.change(workspaceId, (d) => {
      if ((d?.events ?? []).length >= MAX_PLAN_EVENTS && !d?.events?.some((e) => e.name === name))
        throw new BadRequestException(`a tracking plan holds at most ${MAX_PLAN_EVENTS} events`);
      return withEvent(d, name, parsed.value);
    });
    return planView(doc).events.find((e) => e.name === name) as PlanEntryView;
  }

  @Delete(':eventName')
  @HttpCode(204)
  @Audit('tracking_plan.update')
  async deleteEvent(@WorkspaceId() workspaceId: string, @Param('eventName') name: string): Promise<void> {
    let found = false;
    await this.change(workspaceId, (d) => {
      found = Boolean(d?.events?.some((e) => e.name === name));
      return d && found ? withoutEvent(d, name) : null;
    });
    if (!found) throw new NotFoundException(`event ${JSON.stringify(name)} is not in the tracking plan`);
  }

  private async change(workspaceId: string, change: (doc: PlanFields | null) => PlanFields | null): Promise<PlanFields | null> {
    try {
      return await this.plans.change(workspaceId, change);
    } catch (e) {
      if (e instanceof PlanConflictError) throw new ConflictException(e.message);
      throw e;
    }
  }
}
