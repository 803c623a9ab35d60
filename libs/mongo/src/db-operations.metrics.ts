import { Injectable } from '@nestjs/common';
import type { CommandStartedEvent, CommandSucceededEvent, Document } from 'mongodb';
import { Counter } from 'prom-client';
import { Metrics } from '@cdp/platform';
import { MongoConnection } from './mongo-connection';

/** Commands whose first field names the collection (the rest, e.g. getMore, say it elsewhere or not at all). */
const NAMED_BY_FIRST_FIELD = new Set(['find', 'insert', 'update', 'delete', 'findAndModify', 'aggregate', 'count', 'distinct']);

/** The collection a command is about, '' for database commands (ping, listCollections, ...). */
export function collectionOf(commandName: string, command: Document): string {
  if (NAMED_BY_FIRST_FIELD.has(commandName)) return String(command[commandName]);
  if (commandName === 'getMore') return String(command['collection']);
  return '';
}

/** Documents a command sends: inserted documents, update and delete statements. */
export function documentsSent(commandName: string, command: Document): number {
  const list = { insert: 'documents', update: 'updates', delete: 'deletes' }[commandName];
  return list && Array.isArray(command[list]) ? (command[list] as unknown[]).length : 0;
}

/** Documents a reply returns: a cursor's batch, findAndModify's document. */
export function documentsReturned(commandName: string, reply: Document): number {
  const cursor = reply['cursor'] as { firstBatch?: unknown[]; nextBatch?: unknown[] } | undefined;
  if (cursor) return (cursor.firstBatch ?? cursor.nextBatch ?? []).length;
  return commandName === 'findAndModify' && reply['value'] ? 1 : 0;
}

/**
 * The database work of this service, from the driver's command monitoring, so a benchmark can
 * say which collection costs what per event: round trips, and documents sent or returned (the
 * server reads and writes whole documents, so these are its work).
 */
@Injectable()
export class DbOperationsMetrics {
  readonly commands: Counter<'command' | 'collection'>;
  readonly documents: Counter<'command' | 'collection'>;
  readonly writeErrors: Counter<'command' | 'collection'>;

  constructor(mongo: MongoConnection, metrics: Metrics) {
    const labelNames = ['command', 'collection'] as const;
    this.commands = new Counter({
      name: 'cdp_db_commands_total',
      help: 'MongoDB commands sent (each a round trip), by command and collection.',
      labelNames,
      registers: [metrics.registry],
    });
    this.documents = new Counter({
      name: 'cdp_db_documents_total',
      help: 'Documents sent (inserts, update and delete statements) or returned (find, getMore, findAndModify), by command and collection.',
      labelNames,
      registers: [metrics.registry],
    });
    this.writeErrors = new Counter({
      name: 'cdp_db_write_errors_total',
      help: 'Write errors in replies (mostly duplicate keys of claims: the local FerretDB then redoes the batch one document at a time), by command and collection.',
      labelNames,
      registers: [metrics.registry],
    });
    // The reply does not name the collection of every command, so it is kept from the start.
    const started = new Map<number, string>();
    mongo.client.on('commandStarted', (e: CommandStartedEvent) => {
      const labels = { command: e.commandName, collection: collectionOf(e.commandName, e.command) };
      this.commands.inc(labels);
      const sent = documentsSent(e.commandName, e.command);
      if (sent > 0) this.documents.inc(labels, sent);
      if (labels.collection) started.set(e.requestId, labels.collection);
    });
    const finish = (e: { requestId: number }) => started.delete(e.requestId);
    mongo.client.on('commandSucceeded', (e: CommandSucceededEvent) => {
      const collection = started.get(e.requestId);
      finish(e);
      if (collection === undefined) return;
      const reply = e.reply as Document;
      const returned = documentsReturned(e.commandName, reply);
      if (returned > 0) this.documents.inc({ command: e.commandName, collection }, returned);
      const errors = Array.isArray(reply['writeErrors']) ? (reply['writeErrors'] as unknown[]).length : 0;
      if (errors > 0) this.writeErrors.inc({ command: e.commandName, collection }, errors);
    });
    mongo.client.on('commandFailed', finish);
  }
}
