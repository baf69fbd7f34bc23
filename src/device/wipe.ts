/**
 * Zeroing deleted secrets: once the store holds a new engine state, every secret buffer the
 * previous state held and the new one no longer does (a used or expired skipped message key, a
 * replaced chain or root key, a private ratchet key deleted at a ratchet step, a consumed one-time
 * prekey, a signed or KEM prekey past its grace period, a dropped session) is overwritten with
 * zeros. Best effort, as spec §envelope.deletion states: JavaScript cannot promise erasure.
 *
 * @see spec §envelope.deletion
 * @module
 */
import type { SecretBytes } from '../suite/types.js';
import type { DeviceState } from '../identity/state.js';
import { type RatchetState, ratchetSecrets } from '../envelope/ratchet.js';
import type { EngineState, PeerRecord } from './state.js';

function deviceSecrets(device: DeviceState): SecretBytes[] {
  return [device.signingKey, device.agreementKey, ...device.signedPrekeys.map((k) => k.secretKey), ...device.oneTimePrekeys.map((k) => k.secretKey)];
}

function sessionSecrets(peer: PeerRecord, withSkipped: boolean): SecretBytes[] {
  const ratchets: RatchetState[] = peer.session.alternate === undefined ? [peer.session.ratchet] : [peer.session.ratchet, peer.session.alternate];
  return ratchets.flatMap((r) => ratchetSecrets(r, withSkipped));
}

/**
 * Wipes the secrets `previous` holds and `next` does not. Called with the state the engine
 * replaces, only after `next` is durable (device.commit-first), so a step whose commit failed
 * wipes nothing and the device goes on with intact keys. Only the parts that changed are read:
 * peers whose record is the same object in both states are skipped, except that the non-skipped
 * secrets of every peer of `next` count as held (a responder's first ratchet key pair is its
 * signed prekey's).
 *
 * Implements requirement `envelope.wipe`.
 *
 * @see spec §envelope.deletion
 */
export function wipeDroppedSecrets(previous: EngineState, next: EngineState): void {
  if (previous === next) return;
  const candidates: SecretBytes[] = [];
  const seeds: Uint8Array[] = [];
  if (previous.device !== next.device) {
    candidates.push(...deviceSecrets(previous.device));
    const kept = new Set(next.device.kemPrekeys.map((k) => k.seed));
    for (const k of previous.device.kemPrekeys) if (!kept.has(k.seed)) seeds.push(k.seed);
  }
  if (previous.accountSecret !== undefined && previous.accountSecret !== next.accountSecret) candidates.push(previous.accountSecret);
  for (const [key, peer] of previous.peers) if (next.peers.get(key) !== peer) candidates.push(...sessionSecrets(peer, true));
  if (candidates.length === 0 && seeds.length === 0) return;
  const held = new Set<SecretBytes>(deviceSecrets(next.device));
  if (next.accountSecret !== undefined) held.add(next.accountSecret);
  for (const [key, peer] of next.peers) for (const s of sessionSecrets(peer, previous.peers.get(key) !== peer)) held.add(s);
  // @req envelope.wipe
  for (const secret of candidates) if (!held.has(secret)) secret.wipe();
  for (const seed of seeds) seed.fill(0);
}
