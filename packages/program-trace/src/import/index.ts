/** The importers of foreign traces (docs/trace-format.md "Importers"): each streams a file as mmsim trace records. */
import { importChampSim } from './champsim.js';
import { importLackey } from './lackey.js';
import type { ImportedTrace } from './reader.js';
import { importStrace } from './strace.js';

export const IMPORT_FORMATS = ['champsim', 'lackey', 'strace'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export function isImportFormat(s: string): s is ImportFormat {
  return (IMPORT_FORMATS as readonly string[]).includes(s);
}

/** Open `file` in a foreign format as a trace (header + records, streamed). */
export async function importTrace(format: ImportFormat, file: string): Promise<ImportedTrace> {
  if (format === 'champsim') return importChampSim(file);
  if (format === 'lackey') return importLackey(file);
  return importStrace(file);
}
