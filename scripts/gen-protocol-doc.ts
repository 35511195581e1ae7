/**
 * Writes docs/protocol.md from the schema source (signaling/schemas/protocolDoc.ts).
 * Usage: npm run docs   (or: node dist/scripts/gen-protocol-doc.js [--check], which exits 1 when the
 * committed file differs from what the schemas give).
 */
import fs from 'node:fs';
import path from 'node:path';
import { findProjectRoot } from '../server/projectRoot';
import { renderProtocolDoc } from '../signaling/schemas/protocolDoc';

export const PROTOCOL_DOC_PATH = path.join(findProjectRoot(), 'docs', 'protocol.md');

function main(): void {
  const text = renderProtocolDoc();
  if (process.argv.includes('--check')) {
    const current = fs.existsSync(PROTOCOL_DOC_PATH) ? fs.readFileSync(PROTOCOL_DOC_PATH, 'utf8') : '';
    if (current !== text) {
      process.stderr.write(`${PROTOCOL_DOC_PATH} is out of date: run npm run docs\n`);
      process.exit(1);
    }
    return;
  }
  fs.mkdirSync(path.dirname(PROTOCOL_DOC_PATH), { recursive: true });
  fs.writeFileSync(PROTOCOL_DOC_PATH, text);
  process.stdout.write(`wrote ${path.relative(process.cwd(), PROTOCOL_DOC_PATH) || PROTOCOL_DOC_PATH}\n`);
}

if (require.main === module) main();
