// The request log tests read: every Graph request and $batch item, in order, with what came back.
// Bounded so a long benchmark cannot grow it without limit. Bodies are kept with passwords and secrets
// replaced by a fixed marker (redact.ts).
import { redactBody } from './redact';

export interface LoggedRequest {
  seq: number;
  time: string;
  method: string;
  /** Path below /v1.0 with its query string, e.g. /users?$filter=... */
  url: string;
  status: number;
  requestId: string;
  requestBody?: unknown;
  responseBody?: unknown;
  /** For $batch items: the envelope's request-id and the item's id. */
  batchRequestId?: string;
  batchItemId?: string;
  appId?: string;
}

export class RequestLog {
  private entries: LoggedRequest[] = [];
  private seq = 0;
  private writeCount = 0;

  constructor(private readonly limit = 200_000) {}

  /** Requests other than GET logged so far (never reset by clear()): what may have changed the tenant. */
  get changes(): number {
    return this.writeCount;
  }

  /** Response bodies of successful reads are not kept: they are large and say nothing a test asserts on writes. */
  add(entry: Omit<LoggedRequest, 'seq' | 'time'>): void {
    const { responseBody, requestBody, ...rest } = entry;
    if (entry.method !== 'GET') this.writeCount++;
    const keep = entry.method !== 'GET' || entry.status >= 400;
    this.entries.push({
      seq: ++this.seq,
      time: new Date().toISOString(),
      ...rest,
      ...(requestBody !== undefined ? { requestBody: redactBody(requestBody) } : {}),
      ...(keep && responseBody !== undefined ? { responseBody: redactBody(responseBody) } : {}),
    });
    // Trimmed in chunks: one splice per request would move the whole array each time once full.
    if (this.entries.length > this.limit + Math.ceil(this.limit / 10)) this.entries.splice(0, this.entries.length - this.limit);
  }

  /** A copy of the entries, optionally only those matching method and/or a path prefix. */
  list(filter: { method?: string; pathPrefix?: string } = {}): LoggedRequest[] {
    return this.entries.filter((e) => (!filter.method || e.method === filter.method) && (!filter.pathPrefix || e.url.startsWith(filter.pathPrefix)));
  }

  /** Writes only (what a bridge changed), excluding reads. */
  writes(): LoggedRequest[] {
    return this.entries.filter((e) => e.method !== 'GET' && e.url !== '/$batch');
  }

  clear(): void {
    this.entries = [];
  }
}
