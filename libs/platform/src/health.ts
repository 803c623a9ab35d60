import { Controller, Get, HttpException, HttpStatus, Injectable } from '@nestjs/common';

export type ReadinessCheck = () => Promise<void>;

/** Components (Kafka, MongoDB, consumers) register what "ready" means for them. */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();
  private readonly advisoryChecks = new Set<string>();
  private shuttingDown = false;

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  /**
   * A check this service keeps serving without (the collector's database: keys verified before
   * keep ingesting): still reported, but readiness does not fail on it, so an orchestrator does
   * not take every instance out of service for what they can ride out.
   */
  advisory(name: string): void {
    this.advisoryChecks.add(name);
  }

  /** Once draining starts, readiness fails so load balancers stop sending traffic. */
  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  async status(): Promise<{ ready: boolean; checks: Record<string, string> }> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        try {
          await withTimeout(check(), 2_000);
          return [name, 'ok'] as const;
        } catch (e) {
          return [name, e instanceof Error ? e.message : 'failed'] as const;
        }
      }),
    );
    const checks: Record<string, string> = Object.fromEntries(entries);
    if (this.shuttingDown) checks['shutdown'] = 'draining';
    return { ready: Object.entries(checks).every(([name, v]) => v === 'ok' || this.advisoryChecks.has(name)), checks };
  }
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e)),
    );
  });

@Controller('health')
export class HealthController {
  constructor(private readonly registry: HealthRegistry) {}

  /** The process is up and its event loop answers. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Every dependency answers; 503 otherwise, with which one failed. */
  @Get('ready')
  async ready(): Promise<{ status: string; checks: Record<string, string> }> {
    const { ready, checks } = await this.registry.status();
    if (!ready) throw new HttpException({ status: 'unavailable', checks }, HttpStatus.SERVICE_UNAVAILABLE);
    return { status: 'ok', checks };
  }
}
