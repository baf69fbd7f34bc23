/**
 * The per-account PEP service of the embedded server (XEP-0163 over XEP-0060): publish with
 * publish-options, retrieval, retraction, node configuration and deletion, with the access
 * models and error answers of Prosody 0.12, or of ejabberd 23.01 where they differ in ways that
 * matter to Seal (see the `ServerFlavour` notes).
 *
 * @see spec §identity.pep
 * @module
 */
import { DATA_FORMS_NS, PUBSUB_NS, PUBSUB_OWNER_NS } from '../wire/pep.js';
import { type Element, childElements, sameNamespaceChildren, xml } from '../wire/xml.js';
import { XmppError } from './connection.js';
import { cloneElement } from './stanzas.js';

/**
 * Which real server the embedded one imitates where PEP behaviour differs (measured on
 * Prosody 0.12.3 and ejabberd 23.01):
 *
 * | | `prosody` | `ejabberd` |
 * | --- | --- | --- |
 * | publish-options other than `pubsub#access_model` and `pubsub#persist_items` | accepted | whole publish rejected: `wait`/`resource-constraint`, "Unknown field" |
 * | items a new node keeps | up to {@link PEP_MAX_ITEMS} | one |
 * | reading a non-open node of another account | `auth`/`forbidden` | `auth`/`not-authorized` + `presence-subscription-required` |
 *
 * Both answer publish-options contradicting an existing node with `cancel`/`conflict` +
 * `precondition-not-met`, and leave the node unchanged.
 */
export type ServerFlavour = 'prosody' | 'ejabberd';

/** The most items a PEP node keeps (Prosody's `pep_max_items`); `pubsub#max_items=max` means this. */
export const PEP_MAX_ITEMS = 256;

/** XEP-0060 §4.5 access models. This server keeps no rosters, so only `open` admits other accounts. */
export type AccessModel = 'open' | 'presence' | 'roster' | 'whitelist' | 'authorize';

const ACCESS_MODELS: readonly string[] = ['open', 'presence', 'roster', 'whitelist', 'authorize'];
const PUBLISH_OPTIONS_FORM = 'http://jabber.org/protocol/pubsub#publish-options';
const NODE_CONFIG_FORM = 'http://jabber.org/protocol/pubsub#node_config';

/** A node's configuration (the fields this server understands). */
export interface PepNodeConfig {
  readonly accessModel: AccessModel;
  readonly maxItems: number;
}

interface PepNode {
  config: PepNodeConfig;
  /** Current items, oldest first. */
  items: Array<{ id: string; payload: Element }>;
  /** Every item ever published, oldest first, as `<item id>payload</item>`. */
  readonly history: Element[];
}

/**
 * The adversary's view of an item about to be served: return a replacement `<item/>`, `null` to
 * withhold it, or `undefined` to serve it unchanged.
 */
export type PepRewrite = (node: string, item: Element) => Element | null | undefined;

/** A notification a PEP request causes. */
export interface PepNotice {
  /** The node concerned. */
  readonly node: string;
  /** The event's content: `<items node>…</items>` or `<delete node/>`. */
  readonly element: Element;
  /** Whether the account `bare` may receive it (the node's access model at the time). */
  readonly mayRead: (bare: string) => boolean;
}

/** What a PEP request produced: the result's payload, and a notification to send, if any. */
export interface PepOutcome {
  /** The child of the iq result, if any. */
  readonly payload?: Element;
  /** The notification to send, if any. */
  readonly event?: PepNotice;
}

function itemElement(id: string, payload: Element): Element {
  return xml('item', { id }, [cloneElement(payload)]);
}

function pubsubError(type: 'modify' | 'cancel', condition: string, application: string, text?: string): XmppError {
  return new XmppError(type, condition, application, text);
}

/** Reads the fields of the data form inside `parent` (none if absent), checking its FORM_TYPE. */
function formFields(parent: Element | undefined, formType: string): Map<string, string> {
  const fields = new Map<string, string>();
  const form = parent?.getChild('x', DATA_FORMS_NS);
  if (!form) return fields;
  for (const field of form.getChildren('field', DATA_FORMS_NS)) {
    const name = field.attrs.var as unknown;
    if (typeof name === 'string' && name !== 'FORM_TYPE') fields.set(name, field.getChildText('value', DATA_FORMS_NS) ?? '');
  }
  const declared = form.getChildren('field', DATA_FORMS_NS).find((field) => field.attrs.var === 'FORM_TYPE')?.getChildText('value', DATA_FORMS_NS);
  if (declared !== undefined && declared !== null && declared !== formType) throw new XmppError('modify', 'bad-request', undefined, `unexpected FORM_TYPE ${declared}`);
  return fields;
}

/** The known fields of a configuration form, checked. Unknown fields are ignored (as Prosody). */
function readConfig(fields: Map<string, string>): Partial<PepNodeConfig> {
  const config: { accessModel?: AccessModel; maxItems?: number } = {};
  const access = fields.get('pubsub#access_model');
  if (access !== undefined) {
    if (!ACCESS_MODELS.includes(access)) throw new XmppError('modify', 'not-acceptable', undefined, `unknown access model ${access}`);
    config.accessModel = access as AccessModel;
  }
  const max = fields.get('pubsub#max_items');
  if (max !== undefined) {
    const value = max === 'max' ? PEP_MAX_ITEMS : /^[1-9]\d{0,8}$/.test(max) ? Number(max) : Number.NaN;
    if (!(value <= PEP_MAX_ITEMS)) throw new XmppError('modify', 'not-acceptable', undefined, `pubsub#max_items: expected 1..${PEP_MAX_ITEMS} or 'max', got ${max}`);
    config.maxItems = value;
  }
  return config;
}

/** One account's PEP service. @internal Used by the embedded server. */
export class PepService {
  readonly #owner: string;
  readonly #flavour: ServerFlavour;
  readonly #newId: () => string;
  readonly #nodes = new Map<string, PepNode>();

  constructor(owner: string, flavour: ServerFlavour, newId: () => string) {
    this.#owner = owner;
    this.#flavour = flavour;
    this.#newId = newId;
  }

  /** Whether `bare` may read `node`: the owner always, others only under the `open` model. */
  canRead(node: string, bare: string): boolean {
    const found = this.#nodes.get(node);
    return found !== undefined && (bare === this.#owner || found.config.accessModel === 'open');
  }

  /** The current items of `node`, oldest first, as `<item id>payload</item>` copies. */
  items(node: string): Element[] {
    return (this.#nodes.get(node)?.items ?? []).map((item) => itemElement(item.id, item.payload));
  }

  /** Every item ever published to `node`, oldest first (copies): material for a stale answer. */
  history(node: string): Element[] {
    return (this.#nodes.get(node)?.history ?? []).map(cloneElement);
  }

  /** The configuration of `node`, or `undefined` if it does not exist. */
  config(node: string): PepNodeConfig | undefined {
    return this.#nodes.get(node)?.config;
  }

  /** The last item of every node `bare` may read, as `<items node><item/></items>` (XEP-0163 §4.3.2, last published item). */
  lastItems(bare: string): Element[] {
    const out: Element[] = [];
    for (const [node, found] of this.#nodes) {
      const last = found.items.at(-1);
      if (last && this.canRead(node, bare)) out.push(xml('items', { node }, [itemElement(last.id, last.payload)]));
    }
    return out;
  }

  /**
   * Handles the `<pubsub/>` child of an iq addressed to this account's PEP service.
   *
   * @param requester - the requesting account's bare JID.
   * @param rewrite - the adversary's hook, applied to every item served by a retrieval.
   * @throws XmppError `forbidden` (a write by another account, or a read the access model denies;
   *   ejabberd: `not-authorized` + `presence-subscription-required`), `item-not-found` (no such node
   *   or item), `bad-request` (missing node, item or payload; wrong iq type), `conflict` +
   *   `precondition-not-met` (publish-options contradicting the node), `resource-constraint`
   *   (ejabberd, unknown publish option), `not-acceptable` (bad option value),
   *   `feature-not-implemented` (other pubsub requests).
   */
  handle(iqType: 'get' | 'set', pubsub: Element, requester: string, rewrite: PepRewrite): PepOutcome {
    const isOwner = requester === this.#owner;
    // Elements by local name and namespace: the request's children are in the <pubsub/> namespace.
    const namespace = pubsub.getNS() as string | undefined;
    const action = childElements(pubsub).find((child) => child.getNS() === namespace && child.getName() !== 'publish-options');
    if (!action) throw new XmppError('modify', 'bad-request', undefined, 'empty pubsub request');
    const ownerNs = namespace === PUBSUB_OWNER_NS;
    const name = action.getName();
    const expected = !ownerNs && name === 'items' ? 'get' : ownerNs && name === 'configure' ? iqType : 'set';
    if (iqType !== expected) throw new XmppError('modify', 'bad-request', undefined, `<${name}/> expects an iq of type ${expected}`);
    if (name !== 'items' && !isOwner) throw new XmppError('auth', 'forbidden', undefined, 'only the owner may change its PEP nodes');
    const node = action.attrs.node as unknown;
    if (typeof node !== 'string' || node === '') throw pubsubError('modify', 'bad-request', 'nodeid-required');
    if (ownerNs) {
      if (name === 'configure') return this.#configure(iqType, node, action);
      if (name === 'delete') return this.#delete(node);
    } else {
      if (name === 'publish') return this.#publish(node, action, sameNamespaceChildren(pubsub, 'publish-options')[0]);
      if (name === 'items') return this.#retrieve(node, action, requester, rewrite);
      if (name === 'retract') return this.#retract(node, action);
    }
    throw new XmppError('cancel', 'feature-not-implemented', 'unsupported', `<${name}/>`);
  }

  #existing(node: string): PepNode {
    const found = this.#nodes.get(node);
    if (!found) throw new XmppError('cancel', 'item-not-found', undefined, `no node ${node}`);
    return found;
  }

  #mayRead(node: string): (bare: string) => boolean {
    return (bare) => this.canRead(node, bare);
  }

  #publish(node: string, publish: Element, options: Element | undefined): PepOutcome {
    const items = sameNamespaceChildren(publish, 'item');
    if (items.length !== 1) throw pubsubError('modify', 'bad-request', items.length === 0 ? 'item-required' : 'invalid-payload');
    const item = items[0]!;
    const payloads = childElements(item);
    if (payloads.length !== 1) throw pubsubError('modify', 'bad-request', payloads.length === 0 ? 'payload-required' : 'invalid-payload');
    const fields = formFields(options, PUBLISH_OPTIONS_FORM);
    if (this.#flavour === 'ejabberd') {
      // ejabberd 23.01 knows the XEP-0223 publish-options (access model, persist_items) and no others.
      const unknown = [...fields.keys()].find((name) => name !== 'pubsub#access_model' && name !== 'pubsub#persist_items');
      if (unknown !== undefined) throw new XmppError('wait', 'resource-constraint', undefined, `Unknown field: ${unknown}`);
    }
    const wanted = readConfig(fields);
    let found = this.#nodes.get(node);
    if (found) {
      // XEP-0060 §7.1.5: publish-options are preconditions on an existing node, not a reconfiguration.
      const config = found.config;
      if ((wanted.accessModel !== undefined && wanted.accessModel !== config.accessModel) || (wanted.maxItems !== undefined && wanted.maxItems !== config.maxItems)) {
        throw new XmppError('cancel', 'conflict', 'precondition-not-met');
      }
    } else {
      const defaults: PepNodeConfig = { accessModel: 'presence', maxItems: this.#flavour === 'ejabberd' ? 1 : PEP_MAX_ITEMS };
      found = { config: { ...defaults, ...wanted }, items: [], history: [] };
      this.#nodes.set(node, found);
    }
    const rawId = item.attrs.id as unknown;
    const id = typeof rawId === 'string' && rawId !== '' ? rawId : this.#newId();
    const payload = cloneElement(payloads[0]!);
    // Publishing an existing id replaces that item (XEP-0060 §7.1.2); it becomes the newest.
    found.items = found.items.filter((existing) => existing.id !== id);
    found.items.push({ id, payload });
    while (found.items.length > found.config.maxItems) found.items.shift();
    found.history.push(itemElement(id, payload));
    return {
      payload: xml('pubsub', { xmlns: PUBSUB_NS }, [xml('publish', { node }, [xml('item', { id })])]),
      event: { node, element: xml('items', { node }, [itemElement(id, payload)]), mayRead: this.#mayRead(node) },
    };
  }

  #retrieve(node: string, items: Element, requester: string, rewrite: PepRewrite): PepOutcome {
    const found = this.#existing(node);
    if (!this.canRead(node, requester)) {
      if (this.#flavour === 'ejabberd') throw new XmppError('auth', 'not-authorized', 'presence-subscription-required');
      throw new XmppError('auth', 'forbidden');
    }
    const ids = sameNamespaceChildren(items, 'item').flatMap((item) => (typeof item.attrs.id === 'string' ? [item.attrs.id as string] : []));
    let selected = ids.length > 0 ? found.items.filter((item) => ids.includes(item.id)) : found.items;
    const maxText = items.attrs.max_items as unknown;
    if (maxText !== undefined) {
      if (typeof maxText !== 'string' || !/^\d{1,9}$/.test(maxText)) throw new XmppError('modify', 'bad-request', undefined, 'invalid max_items');
      selected = Number(maxText) === 0 ? [] : selected.slice(-Number(maxText));
    }
    const served: Element[] = [];
    for (const item of selected) {
      const honest = itemElement(item.id, item.payload);
      const answer = rewrite(node, honest);
      if (answer === null) continue;
      served.push(answer === undefined ? honest : cloneElement(answer));
    }
    if (ids.length > 0 && served.length === 0) throw new XmppError('cancel', 'item-not-found', undefined, `no item ${ids.join(', ')} in ${node}`);
    return { payload: xml('pubsub', { xmlns: PUBSUB_NS }, [xml('items', { node }, served)]) };
  }

  #retract(node: string, retract: Element): PepOutcome {
    const found = this.#existing(node);
    const ids = sameNamespaceChildren(retract, 'item').flatMap((item) => (typeof item.attrs.id === 'string' ? [item.attrs.id as string] : []));
    if (ids.length === 0) throw pubsubError('modify', 'bad-request', 'item-required');
    for (const id of ids) if (!found.items.some((item) => item.id === id)) throw new XmppError('cancel', 'item-not-found', undefined, `no item ${id} in ${node}`);
    found.items = found.items.filter((item) => !ids.includes(item.id));
    const notify = retract.attrs.notify === 'true' || retract.attrs.notify === '1';
    return notify ? { event: { node, element: xml('items', { node }, ids.map((id) => xml('retract', { id }))), mayRead: this.#mayRead(node) } } : {};
  }

  #configure(iqType: 'get' | 'set', node: string, configure: Element): PepOutcome {
    const found = this.#existing(node);
    if (iqType === 'get') {
      const value = (name: string, text: string) => xml('field', { var: name }, [xml('value', {}, [text])]);
      return {
        payload: xml('pubsub', { xmlns: PUBSUB_OWNER_NS }, [
          xml('configure', { node }, [
            xml('x', { xmlns: DATA_FORMS_NS, type: 'form' }, [
              xml('field', { var: 'FORM_TYPE', type: 'hidden' }, [xml('value', {}, [NODE_CONFIG_FORM])]),
              value('pubsub#access_model', found.config.accessModel),
              value('pubsub#max_items', String(found.config.maxItems)),
            ]),
          ]),
        ]),
      };
    }
    found.config = { ...found.config, ...readConfig(formFields(configure, NODE_CONFIG_FORM)) };
    while (found.items.length > found.config.maxItems) found.items.shift();
    return {};
  }

  #delete(node: string): PepOutcome {
    const found = this.#existing(node);
    // Who could read the node decides who hears of its deletion.
    const readers = found.config.accessModel === 'open' ? () => true : (bare: string) => bare === this.#owner;
    this.#nodes.delete(node);
    return { event: { node, element: xml('delete', { node }), mayRead: readers } };
  }
}
