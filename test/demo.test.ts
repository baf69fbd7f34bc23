/**
 * The demo that `npm start` runs: every step succeeds (exit code 0), and `--verbose` shows the
 * stanzas on the wire.
 */
import { describe, expect, it } from 'vitest';
import { runDemo } from '../src/cli/demo.js';

describe('npm start (demo)', () => {
  it('runs the scripted conversation with every message arriving exactly once', async () => {
    const lines: string[] = [];
    const code = await runDemo({ verbose: false, print: (line) => lines.push(line) });
    expect(lines.filter((l) => l.includes('✗'))).toEqual([]);
    expect(lines.filter((l) => l.includes('✓')).length).toBeGreaterThanOrEqual(10);
    expect(code).toBe(0);
  });

  it('shows the stanzas on the wire with --verbose', async () => {
    const lines: string[] = [];
    await runDemo({ verbose: true, print: (line) => lines.push(line) });
    const wire = lines.join('\n');
    expect(wire).toContain("<sealed xmlns='urn:xmpp:seal:0'");
    expect(wire).toContain("<bundle xmlns='urn:xmpp:seal:0'>");
    expect(wire).not.toContain('Are you there?'); // plaintext never on the wire
  });
});
