// Pods on the test bed's real node, for integration tests: the node itself, or a failure that
// says why it is missing (never a skip), and the app helpers from test/testbed/node/apps.ts.
import type { NodeInfo } from '../testbed/node/node.ts';
import { testbed } from './testbed.ts';

export { fields, NodeApps as Pods } from '../testbed/node/apps.ts';

/** The bed's node; fails, naming why, when the bed could not start one. Never skips. */
export function requireNode(): NodeInfo {
  const bed = testbed();
  if (bed.node) return bed.node;
  throw new Error(
    `this test needs the test bed's node (kubelet + containerd), which did not start: ${bed.nodeError ?? 'the bed was started without { node: true }'}`,
  );
}
