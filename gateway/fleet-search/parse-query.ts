/** A fleet query from a request: read, or a 400 naming the position and the reason. */
import { ApiError } from '../errors.ts';
import { type FleetQuery, FleetQueryError, parseFleetQuery } from './parse.ts';

export function parseQuery(text: string, field = 'q'): FleetQuery {
  try {
    return parseFleetQuery(text);
  } catch (error) {
    if (!(error instanceof FleetQueryError)) throw error;
    throw new ApiError('INVALID_REQUEST', `${field}: ${error.message}`, {
      field,
      position: error.position,
      reason: error.reason,
    });
  }
}
