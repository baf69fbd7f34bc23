/**
 * Publishing and fetching Seal's PEP items over an {@link XmppConnection}: one item per node,
 * item id `current`, publish-options `pubsub#access_model=open` and `pubsub#persist_items=true`,
 * node deletion (XEP-0060 §8.4), and the bounded recovery from a
 * rejected publish (reconfigure the node after `precondition-not-met`, one retry after a `wait`
 * error, then give up). The decision itself is {@link onPublishError}; this file only does the IO.
 *
 * @see spec §identity.pep
 * @module
 */
import { SealError } from '../errors.js';
import { ITEM_ID, type PublishError, onPublishError, publishOptions } from '../identity/pep.js';
import { configureIq, deleteIq, publishIq, retrieveIq } from '../wire/pep.js';
import type { Element } from '../wire/xml.js';
import { XmppError, type XmppConnection } from './connection.js';
import { readPubsubItems } from './stanzas.js';

/** Options of {@link publishItem}. */
export interface PublishItemOptions {
  /** The clock, in seconds (fractions allowed); default `Date.now() / 1000`. */
  readonly now?: () => number;
  /**
   * Waits `seconds` seconds; default a `setTimeout`. It must let time pass on `now`: the retry
   * after a `wait` error waits again for whatever the clock says is left.
   */
  readonly sleep?: (seconds: number) => Promise<void>;
}

let requestCounter = 0;

/** A fresh iq id (unique within this process, so within every connection). @internal */
function nextId(kind: string): string {
  requestCounter += 1;
  return `seal-${kind}-${requestCounter}`;
}

function defaultSleep(seconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}

function checkNode(node: string): string {
  if (typeof node !== 'string' || node === '') throw new SealError('invalid-value', `node: expected a non-empty PEP node name, got ${JSON.stringify(node)}`);
  return node;
}

/** The fields of an XmppError that {@link onPublishError} reads. */
function publishErrorOf(error: XmppError): PublishError {
  return { type: error.type, condition: error.condition, ...(error.application === undefined ? {} : { application: error.application }) };
}

/**
 * Publishes `payload` as the single item (`current`) of the account's own PEP node `node`,
 * with the publish-options of every Seal publish (`pubsub#access_model=open`,
 * `pubsub#persist_items=true`), and recovers
 * from a rejected publish as requirement `identity.pep-errors` prescribes:
 *
 * - `precondition-not-met` (Prosody: `conflict` + `precondition-not-met`; the node exists with
 *   another access model): the node is reconfigured (XEP-0060 §8.2, the same two options)
 *   and the publish sent once more;
 * - an error of type `wait`: the same publish is sent once more, no earlier than
 *   PUBLISH_WAIT_RETRY (60) seconds after the failure, by `now`;
 * - any other error, or a second failure of the same publish: the error is thrown.
 *
 * So a publish costs at most two publish requests and one configure request.
 *
 * @param connection - the publishing account's connection.
 * @param node - the node, e.g. `DEVICE_LIST_NODE` or `bundleNode(id)`.
 * @param payload - the item's payload, e.g. `DeviceListElement.toXml(list)`.
 * @param options - an injectable clock and sleep (tests).
 * @throws XmppError the publish's error when it is neither recoverable nor recovered (the
 *   second failure's error after a recovery), or the configure request's error.
 * @throws SealError `invalid-value` when `node` is empty.
 * @see spec §identity.pep
 * @example
 * ```ts
 * await publishItem(connection, DEVICE_LIST_NODE, DeviceListElement.toXml(list));
 * ```
 */
export async function publishItem(connection: XmppConnection, node: string, payload: Element, options: PublishItemOptions = {}): Promise<void> {
  checkNode(node);
  const now = options.now ?? (() => Date.now() / 1000);
  const sleep = options.sleep ?? defaultSleep;
  for (let failures = 1; ; failures += 1) {
    try {
      await connection.iq(publishIq(nextId('publish'), node, ITEM_ID, payload, publishOptions()));
      return;
    } catch (e) {
      if (!(e instanceof XmppError)) throw e;
      const failedAt = now();
      // @req identity.pep-errors: at most one recovery; the decision is the identity layer's.
      const next = onPublishError(publishErrorOf(e), failures);
      switch (next.action) {
        case 'give-up':
          // @req identity.pep-errors: a second failure, or an error with no recovery, is reported.
          throw e;
        case 'configure-then-publish':
          // @req identity.pep-errors: reconfigure the node to access model open, then publish once more.
          await connection.iq(configureIq(nextId('configure'), node, publishOptions()));
          break;
        case 'retry-after': {
          // @req identity.pep-errors: not before PUBLISH_WAIT_RETRY seconds have passed, by the
          // clock rather than by trust in the timer (a timer may fire a little early).
          const until = failedAt + next.seconds;
          for (let left = next.seconds; left > 0; left = until - now()) await sleep(left);
          break;
        }
        default: {
          const unreachable: never = next;
          throw new SealError('invalid-value', `publish: unknown recovery ${JSON.stringify(unreachable)}`);
        }
      }
    }
  }
}

/**
 * Fetches the payload of the single item (`current`) of `jid`'s PEP node `node`
 * (XEP-0060 §6.5.8).
 *
 * @param connection - the fetching account's connection.
 * @param jid - the bare JID of the node's owner (the connection's own account too).
 * @param node - the node, e.g. `DEVICE_LIST_NODE`.
 * @returns the payload, or `undefined` when the node or the item does not exist (the server
 *   answers `item-not-found`, or with no item `current`).
 * @throws XmppError any other error answer (e.g. `auth`/`forbidden` for a node the access model
 *   closes, `cancel`/`service-unavailable` for an unknown account).
 * @throws SealError `invalid-value` when `node` is empty.
 * @see spec §identity.pep
 * @example
 * ```ts
 * const payload = await fetchItem(connection, 'bob@example.org', DEVICE_LIST_NODE);
 * const list = payload === undefined ? undefined : DeviceListElement.fromXml(payload);
 * ```
 */
export async function fetchItem(connection: XmppConnection, jid: string, node: string): Promise<Element | undefined> {
  checkNode(node);
  let result: Element;
  try {
    result = await connection.iq(retrieveIq(nextId('fetch'), jid, node, ITEM_ID));
  } catch (e) {
    if (e instanceof XmppError && e.condition === 'item-not-found') return undefined;
    throw e;
  }
  return readPubsubItems(result).find((item) => item.id === ITEM_ID)?.payload;
}

/**
 * Deletes the account's own PEP node `node` (XEP-0060 §8.4), as a removed device's bundle node
 * and, when the last device is removed, the device-list node are deleted (requirement
 * `device.remove`). A node that does not exist (`item-not-found`) counts as deleted.
 *
 * @throws XmppError any other error answer.
 * @throws SealError `invalid-value` when `node` is empty.
 * @see spec §identity.pep
 * @example
 * ```ts
 * await deleteNode(connection, bundleNode(removedDeviceId));
 * ```
 */
export async function deleteNode(connection: XmppConnection, node: string): Promise<void> {
  checkNode(node);
  try {
    await connection.iq(deleteIq(nextId('delete'), node));
  } catch (e) {
    if (e instanceof XmppError && e.condition === 'item-not-found') return;
    throw e;
  }
}
