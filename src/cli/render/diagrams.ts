/**
 * Sequence diagrams of the XEP, drawn as inline SVG at build time: a small layout engine
 * (participants as columns, messages as arrows, notes as boxes, dividers for time passing) and
 * the three diagrams the text needs: the asynchronous handshake, the interactive handshake
 * (Noise XX with ML-KEM) and the multi-device envelope. No network, no external renderer: the
 * SVG is plain text in the page, styled by the page's CSS.
 *
 * @see spec §handshake.async
 * @see spec §handshake.interactive
 * @see spec §envelope
 * @module
 */

/** A column of the diagram. */
export interface Participant {
  readonly id: string;
  readonly label: string;
  /** A second, smaller line under the label. */
  readonly detail?: string;
}

/** One row of the diagram. */
export type Step =
  | { readonly kind: 'message'; readonly from: string; readonly to: string; readonly lines: readonly string[]; readonly reply?: boolean }
  | { readonly kind: 'note'; readonly over: readonly [string] | readonly [string, string]; readonly lines: readonly string[] }
  | { readonly kind: 'divider'; readonly label: string };

/** A sequence diagram: where it belongs in the spec, its caption and its rows. */
export interface SequenceDiagram {
  /** Prefix of the SVG's own ids (markers, title); unique in the page. */
  readonly id: string;
  /** The section anchor the diagram illustrates. */
  readonly anchor: string;
  readonly caption: string;
  /** A text alternative for readers who cannot see the drawing. */
  readonly description: string;
  readonly participants: readonly Participant[];
  readonly steps: readonly Step[];
}

const FONT = 12;
/** Average advance of a 12 px sans-serif character, rounded up so labels never overflow. */
const CHAR = 6.9;
const LINE = 16;
const PAD = 10;
const HEAD = 44;
const MARGIN = 16;

const textWidth = (text: string) => Math.ceil(text.length * CHAR);
const widest = (lines: readonly string[]) => Math.max(0, ...lines.map(textWidth));

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Column centres: wide enough for every header, message label and note. */
function layoutColumns(diagram: SequenceDiagram): number[] {
  const index = new Map(diagram.participants.map((p, i) => [p.id, i]));
  const at = (id: string) => {
    const i = index.get(id);
    if (i === undefined) throw new Error(`diagram ${diagram.id}: unknown participant '${id}'`);
    return i;
  };
  const n = diagram.participants.length;
  const half = diagram.participants.map((p) => (widest([p.label, p.detail ?? '']) + 2 * PAD) / 2);
  // Minimal distance between neighbouring columns, then spans that need more.
  const gaps = half.slice(1).map((h, i) => h + half[i]! + 24);
  const spans: { from: number; to: number; width: number }[] = [];
  const edge = { left: half[0]!, right: half[n - 1]! };
  for (const step of diagram.steps) {
    if (step.kind === 'message') {
      const [a, b] = [at(step.from), at(step.to)].sort((x, y) => x - y) as [number, number];
      spans.push({ from: a, to: b, width: widest(step.lines) + 2 * PAD + 16 });
    } else if (step.kind === 'note') {
      const [a, b] = step.over.map(at).sort((x, y) => x - y) as [number, number?];
      const width = widest(step.lines) + 2 * PAD;
      if (b === undefined || b === a) {
        if (a > 0) spans.push({ from: a - 1, to: a, width: width / 2 + 12 });
        if (a < n - 1) spans.push({ from: a, to: a + 1, width: width / 2 + 12 });
        if (a === 0) edge.left = Math.max(edge.left, width / 2);
        if (a === n - 1) edge.right = Math.max(edge.right, width / 2);
      } else {
        spans.push({ from: a, to: b, width: width - 2 * 24 });
        if (a === 0) edge.left = Math.max(edge.left, 24);
        if (b === n - 1) edge.right = Math.max(edge.right, 24);
      }
    }
  }
  for (const span of spans.sort((x, y) => x.to - x.from - (y.to - y.from))) {
    const have = gaps.slice(span.from, span.to).reduce((s, g) => s + g, 0);
    if (have < span.width) for (let i = span.from; i < span.to; i++) gaps[i]! += (span.width - have) / (span.to - span.from);
  }
  const xs = [MARGIN + edge.left];
  for (const gap of gaps) xs.push(xs[xs.length - 1]! + gap);
  return [...xs.map(Math.round), Math.round(xs[n - 1]! + edge.right + MARGIN)];
}

/** Renders a diagram as an accessible inline `<svg>` element. */
export function renderDiagram(diagram: SequenceDiagram): string {
  const columns = layoutColumns(diagram);
  const width = columns.pop()!;
  const x = new Map(diagram.participants.map((p, i) => [p.id, columns[i]!]));
  const out: string[] = [];
  let y = MARGIN + HEAD + 14;
  for (const step of diagram.steps) {
    if (step.kind === 'message') {
      const [x1, x2] = [x.get(step.from)!, x.get(step.to)!];
      const labelX = (x1 + x2) / 2;
      step.lines.forEach((line, i) => out.push(`<text class="sd-label" x="${labelX}" y="${y + i * LINE + FONT}" text-anchor="middle">${escapeXml(line)}</text>`));
      y += step.lines.length * LINE + 6;
      const end = x2 > x1 ? x2 - 2 : x2 + 2;
      out.push(`<line class="sd-arrow${step.reply === true ? ' sd-reply' : ''}" x1="${x1}" y1="${y}" x2="${end}" y2="${y}" marker-end="url(#${diagram.id}-head)"/>`);
      y += 18;
    } else if (step.kind === 'note') {
      const xs = step.over.map((id) => x.get(id)!);
      const w = widest(step.lines) + 2 * PAD;
      const left = xs.length === 1 ? xs[0]! - w / 2 : Math.min(...xs) - 24;
      const boxWidth = xs.length === 1 ? w : Math.max(w, Math.max(...xs) - Math.min(...xs) + 48);
      const h = step.lines.length * LINE + 2 * PAD - 4;
      out.push(`<rect class="sd-note" x="${left}" y="${y}" width="${boxWidth}" height="${h}" rx="3"/>`);
      step.lines.forEach((line, i) => out.push(`<text class="sd-note-text" x="${left + PAD}" y="${y + PAD + i * LINE + FONT - 2}">${escapeXml(line)}</text>`));
      y += h + 14;
    } else {
      out.push(`<line class="sd-divider" x1="${MARGIN}" y1="${y + 8}" x2="${width - MARGIN}" y2="${y + 8}"/>`);
      const w = textWidth(step.label) + 2 * PAD;
      out.push(`<rect class="sd-divider-label" x="${width / 2 - w / 2}" y="${y}" width="${w}" height="${LINE}" rx="8"/>`);
      out.push(`<text class="sd-divider-text" x="${width / 2}" y="${y + FONT}" text-anchor="middle">${escapeXml(step.label)}</text>`);
      y += LINE + 16;
    }
  }
  const height = y + MARGIN;
  const heads = diagram.participants.map((p) => {
    const cx = x.get(p.id)!;
    const w = widest([p.label, p.detail ?? '']) + 2 * PAD;
    const label = `<text class="sd-head-text" x="${cx}" y="${MARGIN + (p.detail === undefined ? 26 : 19)}" text-anchor="middle">${escapeXml(p.label)}</text>`;
    const detail = p.detail === undefined ? '' : `<text class="sd-head-detail" x="${cx}" y="${MARGIN + 35}" text-anchor="middle">${escapeXml(p.detail)}</text>`;
    return `<line class="sd-lifeline" x1="${cx}" y1="${MARGIN + HEAD}" x2="${cx}" y2="${height - MARGIN}"/><rect class="sd-head" x="${cx - w / 2}" y="${MARGIN}" width="${w}" height="${HEAD}" rx="4"/>${label}${detail}`;
  });
  return [
    `<svg class="sequence" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="${diagram.id}-title ${diagram.id}-desc">`,
    `<title id="${diagram.id}-title">${escapeXml(diagram.caption)}</title>`,
    `<desc id="${diagram.id}-desc">${escapeXml(diagram.description)}</desc>`,
    `<defs><marker id="${diagram.id}-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path class="sd-arrowhead" d="M0,0 L10,5 L0,10 z"/></marker></defs>`,
    ...heads,
    ...out,
    '</svg>',
  ].join('\n');
}

/** The asynchronous handshake: publish bundle, fetch bundle, first message with header, responder completes. */
export const ASYNC_HANDSHAKE: SequenceDiagram = {
  id: 'diagram-async',
  anchor: 'handshake.async',
  caption: 'Asynchronous handshake: Bob is offline when Alice starts the session',
  description: "Bob's device B publishes its device list and bundle through PEP and goes offline. Alice's device A fetches and verifies the bundle, derives the handshake secret from four X25519 results and an ML-KEM-768 encapsulation, and sends its first message with the handshake header attached; the server stores it. When Bob comes online, B receives the message, checks the identity signature, looks up the prekeys, recomputes and checks the confirmation, deletes the one-time prekey and opens the message. B's reply confirms the key to A, which then stops attaching the header.",
  participants: [
    { id: 'A', label: 'device A', detail: 'Alice, initiator' },
    { id: 'S', label: 'servers', detail: 'PEP, storage, archive' },
    { id: 'B', label: 'device B', detail: 'Bob, responder' },
  ],
  steps: [
    { kind: 'message', from: 'B', to: 'S', lines: ['1. publish device list and bundle', '(IK_B, SPK_B, PQPK_B, OPK_B…, signed)'] },
    { kind: 'divider', label: 'B goes offline' },
    { kind: 'message', from: 'A', to: 'S', lines: ['2. fetch device list and bundle of B'] },
    { kind: 'message', from: 'S', to: 'A', lines: ['bundle of B'], reply: true },
    { kind: 'note', over: ['A'], lines: ['verify the bundle', 'EK_A ← new X25519 key pair', '(CT, SS) ← Encaps(PQPK_B)', 'DH1 … DH3 [, DH4 with OPK_B]', 'hs ← DeriveKey("async handshake",', '        DH1‖…‖SS, transcript)', 'conf ← DeriveKey("async confirmation",', '        hs, SHA-256(transcript))'] },
    { kind: 'message', from: 'A', to: 'S', lines: ["3. first message, key handshake='true':", 'header {IK_A + signature, s, o, q,', 'EK_A, CT, conf} + RatchetMessage'] },
    { kind: 'note', over: ['S'], lines: ['stored offline', 'and archived'] },
    { kind: 'divider', label: 'B comes online' },
    { kind: 'message', from: 'S', to: 'B', lines: ['message 1 from offline storage'] },
    { kind: 'note', over: ['B'], lines: ['4. check identity keys, signature', 'look up s, q, o; Decaps(CT)', 'recompute hs, conf; compare conf', 'delete OPK o; open the message'] },
    { kind: 'message', from: 'B', to: 'A', lines: ['5. reply: any message of the session'] },
    { kind: 'note', over: ['A'], lines: ['key confirmed: stop attaching', 'the header (key-confirmation)'] },
  ],
};

/** The interactive handshake: Noise XX in three messages, with an ML-KEM-768 exchange in messages 1 and 2. */
export const INTERACTIVE_HANDSHAKE: SequenceDiagram = {
  id: 'diagram-interactive',
  anchor: 'handshake.interactive',
  caption: 'Interactive handshake: Noise XX with an ML-KEM-768 exchange',
  description: "Both devices are online. Device A generates an ML-KEM-768 key pair and sends Noise message 1 (e) with the encapsulation key as payload. Device B encapsulates to it, generates its first ratchet key and sends message 2 (e, ee, s, es) with its signing key, identity signature, the KEM ciphertext and the ratchet key, encrypted. Both sides mix the KEM shared secret into the chaining key after message 2. A verifies B's identity signature and sends message 3 (s, se) with its own signing key and identity signature. Both split the Noise state and derive the handshake secret from the two keys and the handshake hash.",
  participants: [
    { id: 'A', label: "Alice's device A", detail: 'initiator, online' },
    { id: 'B', label: "Bob's device B", detail: 'responder, online' },
  ],
  steps: [
    { kind: 'note', over: ['A', 'B'], lines: ['prologue = LabeledContent("Seal-v0 interactive", suite, JIDs, device ids)', 'Noise_XX_25519_ChaChaPoly_SHA256; static keys = identity agreement keys'] },
    { kind: 'note', over: ['A'], lines: ['(PK_kem, SK_kem) ← ML-KEM-768.KeyGen()'] },
    { kind: 'message', from: 'A', to: 'B', lines: ['message 1:  -> e', 'payload: PK_kem (1184 bytes, hashed, not encrypted)'] },
    { kind: 'note', over: ['B'], lines: ['(CT, SS) ← ML-KEM-768.Encaps(PK_kem)', 'R_B ← first ratchet key pair'] },
    { kind: 'message', from: 'B', to: 'A', lines: ['message 2:  <- e, ee, s, es', 'encrypted payload: signing key B, identity signature B, CT, R_B'] },
    { kind: 'note', over: ['A'], lines: ['SS ← ML-KEM-768.Decaps(SK_kem, CT)', "verify B's signing key and identity signature"] },
    { kind: 'note', over: ['A', 'B'], lines: ['both: MixKey(SS) immediately after message 2 (post-quantum hybrid)'] },
    { kind: 'message', from: 'A', to: 'B', lines: ['message 3:  -> s, se', 'encrypted payload: signing key A, identity signature A'] },
    { kind: 'note', over: ['B'], lines: ["verify A's signing key", 'and identity signature'] },
    { kind: 'note', over: ['A', 'B'], lines: ['both: (k1, k2) = Split(); h = handshake hash', 'handshake_secret = DeriveKey("interactive handshake", k1 ‖ k2, context = h, 32)', '→ session secret, root key and exporter (handshake.session)'] },
  ],
};

/** The multi-device envelope: one content ciphertext, one wrapped key per recipient device, fan-out and carbons. */
export const MULTI_DEVICE_ENVELOPE: SequenceDiagram = {
  id: 'diagram-envelope',
  anchor: 'envelope',
  caption: "Multi-device envelope: one payload, one wrapped key per device, the servers' fan-out and carbons",
  description: "Alice's phone A1 encrypts the stanza content once under a fresh content key, commits to the key, and wraps the content key through its session with each recipient device: Bob's devices B1 and B2 and Alice's own laptop A2. It sends one message stanza to Bob's bare JID. Alice's server sends a carbon copy to A2 and forwards the stanza to Bob's server, which delivers it to the online device B1 and stores and archives it for the offline device B2. Each device finds the key element for its own device id, unwraps the content key, checks the commitment and decrypts the one payload.",
  participants: [
    { id: 'A1', label: 'A1', detail: "Alice's phone" },
    { id: 'A2', label: 'A2', detail: "Alice's laptop" },
    { id: 'SA', label: 'server', detail: "Alice's" },
    { id: 'SB', label: 'server', detail: "Bob's" },
    { id: 'B1', label: 'B1', detail: "Bob's phone" },
    { id: 'B2', label: 'B2', detail: "Bob's laptop" },
  ],
  steps: [
    { kind: 'note', over: ['A1', 'SA'], lines: ['content_key ← 32 random bytes', 'commitment ← MacWithLabel(content_key, "key commitment")', 'payload ← ChaCha20-Poly1305(DeriveKey("payload key", content_key), envelope): once', 'for D in B1, B2, A2: key_D ← RatchetEncrypt(A1↔D, content_key)'] },
    { kind: 'message', from: 'A1', to: 'SA', lines: ["<message to='bob'> with one <sealed/>:", 'keys for B1, B2 (bob) and A2 (alice),', 'one <payload/>, a <store/> hint'] },
    { kind: 'message', from: 'SA', to: 'A2', lines: ['carbon (XEP-0280)'] },
    { kind: 'message', from: 'SA', to: 'SB', lines: ['one stanza'] },
    { kind: 'message', from: 'SB', to: 'B1', lines: ['deliver'] },
    { kind: 'note', over: ['SB'], lines: ['B2 offline: store', 'and archive (MAM)'] },
    { kind: 'note', over: ['A2'], lines: ['key A2 → content_key;', 'check commitment,', 'decrypt the payload'] },
    { kind: 'note', over: ['B1'], lines: ['key B1 → content_key;', 'check commitment,', 'decrypt the payload'] },
    { kind: 'divider', label: 'B2 comes online' },
    { kind: 'message', from: 'SB', to: 'B2', lines: ['from offline storage', '(again from MAM: a duplicate)'] },
    { kind: 'note', over: ['B2'], lines: ['key B2 → content_key;', 'check commitment,', 'decrypt the payload'] },
  ],
};

/** The diagrams of the XEP, each placed in the section it illustrates. */
export const DIAGRAMS: readonly SequenceDiagram[] = [ASYNC_HANDSHAKE, INTERACTIVE_HANDSHAKE, MULTI_DEVICE_ENVELOPE];
