/**
 * The demo that `npm start` runs: every step succeeds (exit code 0), it prints the text of every
 * message sent and opened, says what a bundle, carbons and the archive are, shows a key change
 * held until the user accepts it and a device restarted from its store, and `--verbose` shows the
 * stanzas on the wire.
 */
import { describe, expect, it } from 'vitest';
import { runDemo } from '../src/cli/demo.js';

const runs = new Map<boolean, Promise<{ code: number; lines: string[] }>>();

/** The demo's exit code and printed lines (run once per mode, shared by the tests). */
function demo(verbose: boolean): Promise<{ code: number; lines: string[] }> {
  if (!runs.has(verbose)) {
    const lines: string[] = [];
    runs.set(verbose, runDemo({ verbose, print: (line) => lines.push(line) }).then((code) => ({ code, lines })));
  }
  return runs.get(verbose)!;
}

describe('npm start (demo)', () => {
  it('runs the scripted conversation with every message arriving exactly once', async () => {
    const { code, lines } = await demo(false);
    expect(lines.filter((l) => l.includes('✗'))).toEqual([]);
    expect(lines.filter((l) => l.includes('✓')).length).toBeGreaterThanOrEqual(20);
    expect(lines.at(-1)).toBe('  ✓ every message arrived exactly once where it was meant to');
    expect(lines.some((l) => /^\nSummary: \d+ messages opened .* 0 errors/.test(l))).toBe(true);
    expect(code).toBe(0);
  });

  it('prints the text of every opened message, once per device that opened it', async () => {
    const { lines } = await demo(false);
    const opened = (device: string) => lines.filter((l) => l.startsWith(`     ${device} opened "`)).map((l) => /opened "([^"]*)"/.exec(l)![1]);
    expect(opened("Bob's desktop")).toEqual(['Are you there?', 'The plan changed.', 'Call me when you are back.', 'Meet at the station at six.', 'See you both.']);
    expect(opened("Bob's desktop (restarted)")).toEqual(['Did your desktop just restart?', 'Is that really you?', 'notes.txt', 'Welcome to the council.', 'Glad to be here.', 'Carol has left the council.']);
    expect(opened("Bob's laptop")).toEqual(['See you both.', 'Did your desktop just restart?', 'Yes. Same device, same keys.']);
    expect(opened("Alice's laptop")).toEqual(['Back now. What changed?', 'Yes. Same device, same keys.', 'My laptop was wiped: new key, same device.', 'Glad to be here.']);
    expect(opened("Alice's phone")).toHaveLength(11);
    // §groups: Carol, removed, opens nothing sent after; §files: the file arrives and opens.
    expect(opened("Carol's tablet")).toEqual(['Welcome to the council.']);
    expect(lines).toContain('  ✓ Bob was offered the file, and its bytes matched the sealed hashes after download');
    expect(lines).toContain("  ✓ Bob opened it; Carol's tablet got no key for it and opened nothing more");
  });

  it('prints the text of every message sent, before it is opened, and says in one line what a bundle, carbons and the archive are', async () => {
    const { lines } = await demo(false);
    const sent = lines.flatMap((l, i) => {
      const m = /^ {5}(.+) (?:sends|says) "([^"]*)" (?:to|in) ([^\s:]+)(?::.*)?$/.exec(l);
      return m === null ? [] : [{ i, from: m[1]!, text: m[2]!, to: m[3]! }];
    });
    expect(sent.map((s) => s.text)).toEqual(['Are you there?', 'The plan changed.', 'Call me when you are back.', 'Back now. What changed?', 'Meet at the station at six.', 'See you both.', 'Did your desktop just restart?', 'Yes. Same device, same keys.', 'My laptop was wiped: new key, same device.', 'Is that really you?', 'notes.txt', 'Welcome to the council.', 'Glad to be here.', 'Carol has left the council.']);
    expect(sent[0]).toMatchObject({ from: "Alice's laptop", to: 'bob@example.net' });
    // Every opened text was sent, earlier in the output.
    lines.forEach((l, i) => {
      const opened = / opened "([^"]*)"/.exec(l)?.[1];
      if (opened !== undefined) expect(sent.some((s) => s.text === opened && s.i < i), opened).toBe(true);
    });
    for (const term of ["(A bundle: a device's public keys and prekeys", '(Carbons, XEP-0280: ', '(The archive, MAM/XEP-0313: ']) {
      expect(lines.filter((l) => l.includes(term)), term).toHaveLength(1);
    }
  });

  it('shows a device restarted from its store keeping its id and sessions', async () => {
    const { lines } = await demo(false);
    const restart = lines.find((l) => l.includes('sessions restored'))!;
    const [, after, before] = /device (\d+) \(before the restart: (\d+)\)/.exec(restart)!;
    expect(after).toBe(before);
    expect(lines).toContain("  ✓ Alice's next message opened on the session from before the restart (no new handshake)");
  });

  it('shows a key change held with both fingerprints, and the message opened only after the user accepts', async () => {
    const { lines } = await demo(false);
    const asked = lines.findIndex((l) => l.includes('decision needed (key-changed)'));
    expect(asked).toBeGreaterThan(0);
    const recorded = /fingerprint on record ((?:[0-9a-f]{8} ){7}[0-9a-f]{8})$/.exec(lines[asked + 1]!)![1];
    const presented = /fingerprint presented ((?:[0-9a-f]{8} ){7}[0-9a-f]{8})$/.exec(lines[asked + 2]!)![1];
    expect(recorded).not.toBe(presented);
    const accepted = lines.findIndex((l) => l.includes('accepts the new key'));
    const held = lines.map((l, i) => (l.includes('opened "My laptop was wiped') ? i : -1)).filter((i) => i >= 0);
    expect(held).toHaveLength(2);
    expect(held.every((i) => i > accepted && accepted > asked)).toBe(true);
    expect(lines[held[0]!]).toContain('key verified');
    expect(lines.slice(asked, accepted).filter((l) => l.includes('✓')).length).toBe(3);
  });

  it('shows the stanzas on the wire with --verbose, and never a plaintext there', async () => {
    const { code, lines } = await demo(true);
    const wire = lines.filter((l) => /^ {4}(→ server|← )/.test(l)).join('\n');
    expect(wire).toContain("<sealed xmlns='urn:xmpp:seal:0'");
    expect(wire).toContain("<bundle xmlns='urn:xmpp:seal:0'>");
    expect(wire).toContain("<interactive xmlns='urn:xmpp:seal:0'");
    for (const text of ['Are you there?', 'Yes. Same device, same keys.', 'My laptop was wiped']) expect(wire).not.toContain(text);
    expect(code).toBe(0);
  });
});
