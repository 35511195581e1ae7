import fs from 'node:fs';

/**
 * The fields of /proc/<pid>/stat as proc(5) numbers them (1-based: 14 is utime), or undefined when
 * the process is gone or there is no /proc.
 */
export function procStatFields(pid: number): ((field: number) => string | undefined) | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: field 3 starts after its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (field) => fields[field - 3];
}
