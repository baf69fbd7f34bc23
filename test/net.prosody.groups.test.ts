/**
 * §groups on a real server: Prosody 0.12's mod_muc with mod_muc_mam (Debian), through the
 * @xmpp/client adapter. Three accounts, Alice with two devices, a members-only, non-anonymous room
 * created and configured with XEP-0045 requests; a member offline while Alice writes reads the
 * room's archive afterwards; a member removed and no longer able to open new messages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BareJid, bareJid } from '../src/identity/jid.js';
import { SealClient, presence } from '../src/net/index.js';
import { connectToServer } from '../src/net/real.js';
import { seededRng } from '../src/suite/index.js';
import { SEAL_NS } from '../src/suite/suite.js';
import { SealedElement } from '../src/wire/sealed.js';
import { configureRoomIq, joinPresence, setAffiliationIq } from '../src/wire/muc.js';
import { type Element, parseXml } from '../src/wire/xml.js';
import { hasCommand, missing } from './support/environment.js';
import { type Prosody, startProsody, until } from './support/prosody.js';

const skip = missing('prosody', hasCommand('prosody') && hasCommand('prosodyctl'), 'apt-get install prosody lua-unbound');

const opened = (c: SealClient) => c.received.map((m) => m.body);

describe.skipIf(skip !== undefined)('§groups on a real server (Prosody mod_muc + mod_muc_mam)', () => {
  let prosody: Prosody;
  beforeAll(async () => {
    prosody = await startProsody(['alice', 'bob', 'carol'], { muc: 'conference.localhost' });
  }, 30_000);
  afterAll(async () => {
    await prosody?.stop();
  });

  it('a members-only room: live and archived room messages, the reflection, a removed member', async () => {
    // @req groups.message
    // @req groups.open
    // @req groups.reflection
    // @req groups.membership
    const ROOM = bareJid('council@conference.localhost');
    const ALICE = 'alice@localhost' as BareJid;
    const CAROL = 'carol@localhost' as BareJid;
    const now = () => Math.floor(Date.now() / 1000);
    const rng = seededRng('prosody groups');
    const sent: Element[] = [];
    const connect = async (username: string, resource: string) => {
      const connection = await connectToServer({ service: prosody.service, domain: prosody.domain, username, password: 'pw', resource });
      return { ...connection, jid: connection.jid, send: async (s: Element) => { if (username === 'alice' && resource === 'phone') sent.push(s); return connection.send(s); }, iq: connection.iq.bind(connection), onStanza: connection.onStanza.bind(connection), close: connection.close.bind(connection) };
    };
    const phone = await SealClient.create({ connection: await connect('alice', 'phone'), now, rng, oneTimePrekeys: 5 });
    const laptop = await SealClient.create({ connection: await connect('alice', 'laptop'), now, rng, oneTimePrekeys: 5, accountSecret: phone.dangerouslyAccountSecret()! });
    const bob = await SealClient.create({ connection: await connect('bob', 'desk'), now, rng, oneTimePrekeys: 5 });
    const carol = await SealClient.create({ connection: await connect('carol', 'home'), now, rng, oneTimePrekeys: 5 });
    for (const c of [phone, laptop, bob, carol]) await c.connection.send(presence());

    // Alice creates the room, makes it members-only and non-anonymous, and adds Bob and Carol.
    await phone.connection.send(joinPresence(`${ROOM}/alice`));
    await new Promise((r) => setTimeout(r, 200));
    await phone.connection.iq(configureRoomIq('cfg-1', ROOM, { membersOnly: true, nonAnonymous: true }));
    await phone.connection.iq(setAffiliationIq('aff-bob', ROOM, 'bob@localhost', 'member'));
    await phone.connection.iq(setAffiliationIq('aff-carol', ROOM, CAROL, 'member'));
    await phone.joinRoom(ROOM, 'alice');
    await bob.joinRoom(ROOM, 'bob');
    // Prosody answers the members' list queries in this room (members-only, real JIDs visible to all).
    expect(phone.engine.room(ROOM)).toMatchObject({ membersOnly: true, nonAnonymous: true });
    expect(phone.engine.room(ROOM)!.members!.map((m) => `${m.jid} ${m.affiliation}`)).toEqual(['alice@localhost owner', 'bob@localhost member', `${CAROL} member`]);
    expect(bob.engine.room(ROOM)!.members).toHaveLength(3);

    // Carol is offline for the room: she reads its archive later; so does Alice's laptop.
    await phone.sendRoom(ROOM, 'the council is open');
    await until('Bob opens it live', () => opened(bob).includes('the council is open'));
    expect(bob.received[0]).toMatchObject({ from: { jid: ALICE, deviceId: phone.state.deviceId }, room: ROOM, via: 'live' });
    await until('the reflection', () => phone.events.some((e) => e.kind === 'reflected'));
    expect(phone.events.filter((e) => e.kind === 'failed')).toEqual([]);
    const first = sent.filter((s) => s.attrs.type === 'groupchat')[0]!;
    expect(SealedElement.fromXml(first.getChild('sealed', SEAL_NS)!).sender).toBe(ALICE);

    await carol.joinRoom(ROOM, 'carol');
    await carol.fetchRoomArchive(ROOM);
    await laptop.fetchRoomArchive(ROOM);
    await until('Carol and the laptop read the archive', () => opened(carol).includes('the council is open') && opened(laptop).includes('the council is open'));
    expect(carol.received[0]).toMatchObject({ from: { jid: ALICE }, room: ROOM, via: 'archive' });

    // Alice removes Carol: Prosody removes her from the room (status 321); the phone fetches the lists again.
    await phone.connection.iq(setAffiliationIq('remove-carol', ROOM, CAROL, 'none'));
    await until('the phone learns of the removal', () => phone.events.some((e) => e.kind === 'room-members' && e.removed.includes(CAROL)));
    await phone.sendRoom(ROOM, 'without carol');
    await until('Bob opens the next message', () => opened(bob).includes('without carol'));
    const after = sent.filter((s) => s.attrs.type === 'groupchat').at(-1)!;
    const keys = SealedElement.fromXml(after.getChild('sealed', SEAL_NS)!).recipients.map((r) => r.jid);
    expect(keys).not.toContain(CAROL);
    // Carol can no longer read the room's archive; and the stanza itself does not open for her.
    await expect(carol.fetchRoomArchive(ROOM)).rejects.toMatchObject({ condition: 'forbidden' });
    const copy = parseXml(after.toString());
    copy.attrs = { ...copy.attrs, from: `${ROOM}/alice`, to: carol.connection.jid };
    await carol.receive(copy);
    expect(opened(carol)).toEqual(['the council is open']);
    expect(carol.events.filter((e) => e.kind === 'failed').map((e) => (e.kind === 'failed' ? e.code : ''))).toEqual(['not-for-this-device']);

    for (const c of [phone, laptop, bob, carol]) await c.connection.close();
  }, 60_000);
});
