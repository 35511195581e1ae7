import fs from 'node:fs';
import path from 'node:path';
import { findProjectRoot } from '../../server/projectRoot';

export const PROTOCOL_DOC = path.join(findProjectRoot(), 'docs', 'protocol.md');

export function readProtocolDoc(): string {
  return fs.readFileSync(PROTOCOL_DOC, 'utf8');
}

/** The text of one `#### \`name\`` section of the reference (from `after` on), up to the next heading. */
export function docSection(doc: string, name: string, after = 0): string {
  const start = doc.indexOf(`#### \`${name}\``, after);
  if (start < 0) return '';
  const next = doc.slice(start + 5).search(/\n#{2,4} /);
  return next < 0 ? doc.slice(start) : doc.slice(start, start + 5 + next);
}
