// Graph's error body: {"error":{"code","message","details"?,"innerError":{date,request-id,client-request-id}}}.
// Codes and messages are the ones real Graph (Entra directory service) returns; where a rule has a
// documented message it is quoted verbatim, because clients match on them.
export interface ErrorDetail {
  code: string;
  message?: string;
  target?: string;
}

export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'GraphError';
  }
}

/** Graph's innerError date: UTC without milliseconds or zone suffix, e.g. 2021-01-27T18:01:47. */
export function graphDate(now = new Date()): string {
  return now.toISOString().slice(0, 19);
}

export function errorBody(err: GraphError, requestId: string, clientRequestId: string, now = new Date()): unknown {
  const error: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.details) error.details = err.details;
  error.innerError = { date: graphDate(now), 'request-id': requestId, 'client-request-id': clientRequestId };
  return { error };
}

// Directory (Entra) errors.
export const badRequest = (message: string, details?: ErrorDetail[]) => new GraphError(400, 'Request_BadRequest', message, details);

export const resourceNotFound = (id: string) =>
  new GraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);

export const invalidProperty = (name: string) => badRequest(`Invalid property '${name}'.`);

export const readOnlyProperty = (name: string) => badRequest(`Property '${name}' is read-only and cannot be set.`);

export const invalidValue = (name: string, resource: string) =>
  badRequest(`Invalid value specified for property '${name}' of resource '${resource}'.`, [
    { code: 'InvalidValue', message: `Invalid value specified for property '${name}' of resource '${resource}'.`, target: name },
  ]);

export const objectConflict = (property: string) =>
  badRequest(`Another object with the same value for property ${property} already exists.`, [{ code: 'ObjectConflict', target: property }]);

export const onPremMastered = () =>
  badRequest('Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.');

export const insufficientPrivileges = () => new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');

// OData / gateway errors (code "BadRequest", not the directory's "Request_BadRequest").
export const odataBadRequest = (message: string) => new GraphError(400, 'BadRequest', message);

export const segmentNotFound = (segment: string) => new GraphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`);

export const unsupportedMethod = () => new GraphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
