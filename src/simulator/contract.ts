// The contract check: every request a simulator receives (top-level or inside a $batch) is held
// against Microsoft's published description of Graph v1.0 for apps (permissions.ts). Requests real
// Graph would not route, or bodies naming properties it does not let an app write, are recorded as
// violations; the test suite fails on any it did not expect (test/contract-setup.ts).
import { contractViolation } from './permissions';
import type { SimRequest } from './types';

export interface ContractRecorder {
  readonly strict: boolean;
  check(req: Pick<SimRequest, 'method' | 'path' | 'body'>): void;
  /** The violations recorded since the last take(), which clears them. */
  take(): string[];
}

const recorders = new Set<{ list: string[] }>();

export function createContractRecorder(strict: boolean): ContractRecorder {
  const state = { list: [] as string[] };
  if (strict) recorders.add(state);
  return {
    strict,
    check(req) {
      if (!strict) return;
      const v = contractViolation(req.method, req.path, req.body);
      if (v) state.list.push(v);
    },
    take() {
      return state.list.splice(0);
    },
  };
}

/** Every violation recorded by any strict simulator of this process since the last call. */
export function takeAllContractViolations(): string[] {
  return [...recorders].flatMap((r) => r.list.splice(0));
}
