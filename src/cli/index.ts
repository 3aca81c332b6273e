// The `scim-graph-bridge` process (bin/scim-graph-bridge.js): main() on the process's io.
import { processIo } from './io';
import { main } from './main';

const io = processIo();
void main(process.argv.slice(2), io).then((code) => {
  // serve stopped by a signal has closed the bridge: exit now rather than wait on what a client still holds open.
  if (io.signalled) process.exit(code);
  process.exitCode = code;
});
