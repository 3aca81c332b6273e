// WAL checkpoints off the request path. By default SQLite checkpoints inside the commit that
// pushes the WAL past 1,000 pages, so every fiftieth SCIM write or so also copies the WAL into the
// database file (and syncs it) before it can answer: more than half of a write's time on a
// 100,000-user file. A running bridge lets a worker thread, with a connection of its own, run
// PASSIVE checkpoints (which never block readers or the writer) ten times a second, and keeps
// SQLite's own checkpoint on its connection only as a backstop at BACKSTOP_PAGES (a writer that
// never pauses would otherwise grow the WAL without bound: it restarts only once a checkpoint
// caught up). If the worker fails, the connection goes back to SQLite's default.
// Under a steady stream of SCIM creates (about 30 WAL pages each) the WAL never catches up between
// two commits, so it restarts only after a backstop checkpoint, which copies and syncs in a commit
// what the worker had not copied yet: at 16,000 pages and a pass every 250 ms that stalled a
// request every half second and made POST /Users p99 about 45 ms (10 clients, 20,000 users); at
// 64,000 pages and a pass every 100 ms, 20 ms. The WAL file may then reach about 260 MB.
import { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (err) { if (!/busy|locked/i.test(String(err && err.message))) throw err; }
}, workerData.intervalMs);
const done = new Int32Array(workerData.done);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
  db.close();
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
  process.exit(0);
});
`;

/** How long close() waits for the worker to let go of the file before it goes on without it. */
const STOP_WAIT_MS = 2_000;

const BACKSTOP_PAGES = 64_000;

export interface Checkpointer {
  /**
   * Stops the worker and returns once its connection is closed (at most STOP_WAIT_MS): the store's
   * own close is then the last, so SQLite removes the WAL and nothing touches the files afterwards.
   */
  stop(): void;
}

export function startCheckpointer(db: Database, path: string, intervalMs = 100): Checkpointer {
  const done = new SharedArrayBuffer(4);
  const worker = new Worker(WORKER, { eval: true, workerData: { module: require.resolve('better-sqlite3'), path, intervalMs, done } });
  worker.unref();
  db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  let stopped = false;
  const fallBack = () => {
    if (!stopped && db.open) db.pragma('wal_autocheckpoint = 1000');
  };
  worker.on('error', fallBack);
  worker.on('exit', fallBack);
  return {
    stop() {
      stopped = true;
      worker.postMessage('stop');
      // The worker runs on its own thread: the message reaches it while this one waits.
      if (Atomics.wait(new Int32Array(done), 0, 0, STOP_WAIT_MS) === 'timed-out') void worker.terminate();
    },
  };
}
