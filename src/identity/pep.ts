/**
 * Where Seal publishes (PEP node names and item ids), with which options, and what a client does
 * when a server rejects a publish.
 *
 * @see spec §identity.pep
 * @module
 */
import { SEAL_NS } from '../suite/suite.js';
import { IDENTITY_CONSTANTS } from './constants.js';
import type { DeviceId } from './device.js';

/** The device-list node. @see spec §identity.pep */
export const DEVICE_LIST_NODE = `${SEAL_NS}:devices`;

/** The bundle node of one device: one node per device, so no node needs more than one item. @see spec §identity.pep */
export function bundleNode(id: DeviceId): string {
  return `${SEAL_NS}:bundle:${id}`;
}

/** The item id of the single item of every Seal node. @see spec §identity.pep */
export const ITEM_ID = 'current';

/**
 * The publish-options of every Seal publish: the access model only.
 *
 * Implements requirement `identity.pep-publish-options`: `pubsub#max_items` is not sent, because
 * some servers (ejabberd 23.01) reject the whole publish with an error of type `wait` when it
 * is, and one item per node makes it unnecessary.
 *
 * @see spec §identity.pep
 */
export function publishOptions(): Record<string, string> {
  // @req identity.pep-publish-options
  return { 'pubsub#access_model': 'open' };
}

/** A publish error as the server reported it. */
export interface PublishError {
  readonly type: 'cancel' | 'continue' | 'modify' | 'auth' | 'wait';
  /** The stanza error condition (RFC 6120), e.g. `conflict`. */
  readonly condition: string;
  /** The application-specific (XEP-0060 pubsub#errors) condition, if any. */
  readonly application?: string;
}

/** What to do after a failed publish. */
export type PublishAction =
  | { readonly action: 'configure-then-publish' }
  | { readonly action: 'retry-after'; readonly seconds: number }
  | { readonly action: 'give-up' };

/**
 * Decides what to do after a publish failed, given how many times this publish has failed so
 * far (1 on the first failure).
 *
 * Implements requirement `identity.pep-errors`: `precondition-not-met` leads to one node
 * reconfiguration and one more publish; an error of type `wait` to at most one retry after
 * PUBLISH_WAIT_RETRY seconds; anything else, or a second failure, to giving up (the
 * client reports it), never to an unbounded loop.
 *
 * @see spec §identity.pep
 */
export function onPublishError(error: PublishError, failures: number): PublishAction {
  // @req identity.pep-errors
  if (failures > 1) return { action: 'give-up' };
  // Prosody reports it as <conflict/> with the pubsub condition <precondition-not-met/>.
  if (error.condition === 'precondition-not-met' || error.application === 'precondition-not-met') return { action: 'configure-then-publish' };
  if (error.type === 'wait') return { action: 'retry-after', seconds: IDENTITY_CONSTANTS.PUBLISH_WAIT_RETRY };
  return { action: 'give-up' };
}
