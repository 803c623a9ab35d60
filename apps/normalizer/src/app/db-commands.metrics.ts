import { Injectable } from '@nestjs/common';
import type { CommandStartedEvent } from 'mongodb';
import { Counter } from 'prom-client';
import { MongoConnection } from '@cdp/mongo';
import { Metrics } from '@cdp/platform';

/**
 * MongoDB commands the normalizer sends, by command (each a round trip), from the driver's
 * command monitoring: commands / records handled = round trips per event.
 */
@Injectable()
export class DbCommandsMetrics {
  readonly commands: Counter<'command'>;

  constructor(mongo: MongoConnection, metrics: Metrics) {
    this.commands = new Counter({
      name: 'cdp_normalizer_db_commands_total',
      help: 'MongoDB commands sent (each a round trip), by command: find, insert, update, delete, ...',
      labelNames: ['command'] as const,
      registers: [metrics.registry],
    });
    // Set before the first connection is made (the client connects on first use, after the providers are built).
    mongo.client.options.monitorCommands = true;
    mongo.client.on('commandStarted', (e: CommandStartedEvent) => this.commands.inc({ command: e.commandName }));
  }
}
