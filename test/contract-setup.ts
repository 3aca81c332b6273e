// Runs in every test file: whatever simulator the file started, no request it received may be one
// that real Graph v1.0 would not route for an app (src/simulator/contract.ts). A test that sends
// off-contract requests on purpose takes its violations with sim.contract.take() and asserts them.
import { takeAllContractViolations } from '../src/simulator/contract';

afterAll(() => {
  expect(takeAllContractViolations()).toEqual([]);
});
