import { Catch, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { MongoNetworkError, MongoNotConnectedError, MongoServerSelectionError, MongoTopologyClosedError } from 'mongodb';

/** The database could not be reached (as opposed to refusing an operation): a passing condition. */
const UNAVAILABLE = [MongoNetworkError, MongoServerSelectionError, MongoNotConnectedError, MongoTopologyClosedError];
const RETRY_AFTER_S = 5;

/**
 * A request that needed the database while it was unreachable gets 503 with Retry-After, as a
 * Kafka outage does, instead of a 500 that reads like a bug and tells clients not to retry.
 */
@Catch(...UNAVAILABLE)
export class DatabaseUnavailableFilter implements ExceptionFilter {
  private readonly logger = new Logger(DatabaseUnavailableFilter.name);

  catch(error: Error, host: ArgumentsHost): void {
    // Consumers and schedulers handle their own failures; only HTTP requests are answered here.
    if (host.getType() !== 'http') throw error;
    this.logger.warn(`database unavailable: ${error.name}: ${error.message}`);
    const res = host.switchToHttp().getResponse<Response>();
    res
      .status(HttpStatus.SERVICE_UNAVAILABLE)
      .setHeader('Retry-After', String(RETRY_AFTER_S))
      .json({ statusCode: 503, error: 'Service Unavailable', message: 'the database is unavailable; retry later' });
  }
}
