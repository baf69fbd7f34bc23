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
import { DISCO_INFO_NS, type Element, childElements, isNamed, xml } from '../wire/xml.js';

/** The device-list node. @see spec §identity.pep */
export const DEVICE_LIST_NODE = `${SEAL_NS}:devices`;

/** The bundle node of one device: one node per device, so no node needs more than one item. @see spec §identity.pep */
export function bundleNode(id: DeviceId): string {
  return `${SEAL_NS}:bundle:${id}`;
}

/** The item id of the single item of every Seal node. @see spec §identity.pep */
export const ITEM_ID = 'current';

/**
 * The XEP-0163 §4 interest feature of the device-list node: a client that advertises it (disco#info
 * and so entity capabilities) receives the device lists of the accounts whose presence it is
 * subscribed to, and of its own account, as notifications.
 *
 * @see spec §discovery
 */
export const DEVICE_LIST_NOTIFY = `${DEVICE_LIST_NODE}+notify`;

/** The disco#info features every Seal client advertises: the protocol, and interest in device lists. @see spec §discovery */
export const SEAL_CLIENT_FEATURES: readonly string[] = [SEAL_NS, DEVICE_LIST_NOTIFY];

/**
 * A disco#info `<query/>` with the features of {@link SEAL_CLIENT_FEATURES} added (before any
 * data form, once each), for a client's answer to disco#info and for its caps hash.
 *
 * Implements requirement `identity.pep-notify` (the client asks for device-list notifications).
 *
 * @see spec §discovery
 */
export function withSealFeatures(query: Element): Element {
  const children = childElements(query);
  const present = new Set(children.filter((c) => isNamed(c, 'feature', DISCO_INFO_NS)).map((c) => c.attrs.var as unknown));
  const added = SEAL_CLIENT_FEATURES.filter((f) => !present.has(f)).map((f) => xml('feature', { var: f }));
  const firstForm = children.findIndex((c) => c.getName() === 'x');
  const ordered = firstForm < 0 ? [...children, ...added] : [...children.slice(0, firstForm), ...added, ...children.slice(firstForm)];
  return xml('query', { xmlns: DISCO_INFO_NS }, ordered);
}

/**
 * The publish-options of every Seal publish: the access model `open`, and `pubsub#persist_items`
 * `true` (a node that does not persist its item would lose a device's bundle, and every contact's
 * way to start a session with it, when the server restarts).
 *
 * Implements requirement `identity.pep-publish-options`: `pubsub#max_items` is not sent, because
 * some servers (ejabberd 23.01) reject the whole publish with an error of type `wait` when it
 * is, and one item per node makes it unnecessary. Prosody 0.12 and ejabberd 23.01 both accept
 * `pubsub#persist_items` (the Prosody test in test/net.prosody.test.ts publishes with it).
 *
 * @see spec §identity.pep
 */
export function publishOptions(): Record<string, string> {
  // @req identity.pep-publish-options
  return { 'pubsub#access_model': 'open', 'pubsub#persist_items': 'true' };
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
